using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Sinks.Spool;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace ImdsWatch.Sinks;

/// <summary>
/// At-least-once delivery to a receiver: <see cref="Emit"/> writes the alert to the sink's disk spool and returns;
/// a delivery thread sends the oldest spooled alerts in batches (up to <see cref="SinkSettings.BatchSize"/> alerts and
/// <see cref="SinkSettings.BatchMaxBytes"/>; a batch that is not full leaves at most <see cref="SinkSettings.Linger"/>
/// after the previous one began) through retries with backoff and a circuit breaker (Polly), and acknowledges a
/// batch in the spool only once the receiver took all of it. Alerts a receiver answers one by one (Elasticsearch
/// <c>_bulk</c>) are judged one by one: those refused for now are sent again alone, those refused for good are kept
/// in the spool's rejected file and counted. An outage or a restart delays delivery and loses nothing (until the
/// spool is full: then the oldest go, counted).
/// </summary>
public sealed class SpooledSink : IAlertSink, IDisposable
{

    private readonly SinkSettings _settings;
    private readonly IAlertTarget _target;
    private readonly DiskSpool _spool;
    private readonly ResiliencePipeline _resilience;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();   // no new batch, no further retry
    private readonly CancellationTokenSource _abort = new();  // the send in flight too (only once it outlived its timeout)
    private readonly Task _delivery;
    private long _delivered;
    private long _failures;
    private long _requests;
    private int _countCap = int.MaxValue; // lowered when the receiver answers 413

    public SpooledSink(SinkSettings settings, IAlertTarget target, DiskSpool spool, Action<string>? log = null)
    {
        _settings = settings;
        _target = target;
        _spool = spool;
        Log = log ?? (_ => { });
        _resilience = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, settings.Retries),
                Delay = settings.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => !_stop.IsCancellationRequested && (e is not OperationCanceledException || e is TimeoutRejectedException)),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = settings.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException || e is TimeoutRejectedException),
            })
            .AddTimeout(settings.Timeout)
            .Build();
        _resilience.Execute(static () => { }); // compiled now, not on the first alert's way out
        _delivery = Task.Run(DeliverAsync);
    }

    public string Name => _settings.Name;

    /// <summary>The longest pause between delivery attempts while the receiver fails: twice the breaker's break, at most 30 s.</summary>
    private TimeSpan MaxPause => TimeSpan.FromTicks(Math.Clamp(_settings.BreakDuration.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks, TimeSpan.FromSeconds(30).Ticks));

    /// <summary>Told of delivery failures and drops, one line each (the agent writes them to stderr).</summary>
    public Action<string> Log { get; }

    public long Delivered => Interlocked.Read(ref _delivered);
    public long Failures => Interlocked.Read(ref _failures);
    public long Requests => Interlocked.Read(ref _requests);
    public long Rejected => _spool.Rejected;
    public long Backlog => _spool.Pending;
    public long Dropped => _spool.Dropped;

    /// <summary>How long <see cref="Complete"/> waits for the backlog to drain before leaving it in the spool.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public void Emit(Alert alert)
    {
        if (alert.Severity < _settings.MinimumSeverity)
            return;
        _spool.Append(alert.Id, NdjsonAlertWriter.ToJson(alert, DateTimeOffset.UtcNow));
        Signal();
    }

    /// <summary>Waits up to <see cref="DrainTimeout"/> for delivery; what is left stays spooled for the next start.</summary>
    public void Complete()
    {
        var deadline = DateTime.UtcNow + DrainTimeout;
        while (_spool.Pending > 0 && DateTime.UtcNow < deadline)
        {
            Signal();
            Thread.Sleep(20);
        }
        Stop();
    }

    /// <summary>
    /// Ends the delivery loop. A send in flight is let finish (up to its timeout) and acknowledged: cancelling it
    /// after the receiver took it would send the same alerts again at the next start.
    /// </summary>
    private void Stop()
    {
        _stop.Cancel();
        try
        {
            if (!_delivery.Wait(_settings.Timeout + TimeSpan.FromSeconds(1)))
            {
                _abort.Cancel();
                _delivery.Wait(TimeSpan.FromSeconds(2));
            }
        }
        catch (AggregateException)
        {
            // the delivery loop ends by cancellation
        }
    }

    private async Task DeliverAsync()
    {
        var pause = TimeSpan.FromMilliseconds(200);
        var lastStart = DateTime.MinValue;
        Batch? batch = null;
        while (!_stop.IsCancellationRequested)
        {
            if (batch is null)
            {
                if (_spool.Pending == 0)
                {
                    await Wait(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                    continue;
                }
                var linger = lastStart + _settings.Linger - DateTime.UtcNow;
                if (linger > TimeSpan.Zero && !FullBatchWaiting())
                {
                    await Wait(linger).ConfigureAwait(false);
                    continue;
                }
                batch = new Batch(_spool.Peek(BatchCount, _settings.BatchMaxBytes));
                if (batch.Entries.Count == 0)
                {
                    batch = null;
                    await Wait(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                    continue;
                }
            }
            try
            {
                lastStart = DateTime.UtcNow;
                await _resilience.ExecuteAsync(async token => await SendRest(batch, token).ConfigureAwait(false), _abort.Token).ConfigureAwait(false);
                _spool.Acknowledge(batch.Entries);
                Interlocked.Add(ref _delivered, batch.Entries.Count - batch.RejectedCount);
                batch = null;
                pause = TimeSpan.FromMilliseconds(200);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return; // stopping: what was not accepted stays spooled for the next start
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.Increment(ref _failures);
                if (e is not BrokenCircuitException)
                    Log($"sink {Name}: delivery failed, {_spool.Pending} alert(s) kept in the spool: {e.Message}");
                await Wait(pause).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(MaxPause.Ticks, pause.Ticks * 2));
            }
        }
    }

    private int BatchCount => Math.Max(1, Math.Min(Math.Min(_settings.BatchSize, _target.MaxBatch), _countCap));

    private bool FullBatchWaiting() => _spool.Pending >= BatchCount || _spool.PendingBytes >= _settings.BatchMaxBytes;

    /// <summary>
    /// Sends what of the batch the receiver has not taken yet. Alerts refused for good are set aside at once (never
    /// sent again, whatever happens to the rest); if some were refused for now, this attempt fails with them alone
    /// left, for the retry.
    /// </summary>
    private async ValueTask SendRest(Batch batch, CancellationToken cancellation)
    {
        var result = await SendSplitting(batch.Rest, cancellation).ConfigureAwait(false);
        if (result.Rejected.Count > 0)
        {
            _spool.Reject([.. result.Rejected.Select(r => (r.Entry.Id, r.Entry.Json, r.Reason))]);
            batch.RejectedCount += result.Rejected.Count;
            foreach (var r in result.Rejected.Take(3))
                Log($"sink {Name}: alert {r.Entry.Id} refused by the receiver, kept in the spool's rejected.ndjson: {Shorten(r.Reason)}");
            if (result.Rejected.Count > 3)
                Log($"sink {Name}: {result.Rejected.Count - 3} more alert(s) of the batch refused, kept in rejected.ndjson");
        }
        batch.Rest = result.Retry;
        if (!result.Complete)
            throw new PartialDeliveryException($"{result.Retry.Count} of the batch's alerts refused for now (sent again)");
    }

    /// <summary>
    /// Sends <paramref name="entries"/>; a receiver (or a proxy before it) that answers 413 Payload Too Large gets the
    /// two halves instead, and later batches no larger than what it took. One alert too large alone is rejected.
    /// </summary>
    private async Task<DeliveryResult> SendSplitting(IReadOnlyList<SpoolEntry> entries, CancellationToken cancellation)
    {
        try
        {
            Interlocked.Increment(ref _requests);
            return await _target.SendAsync(entries, cancellation).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.RequestEntityTooLarge)
        {
            if (entries.Count == 1)
                return new DeliveryResult([], [new RejectedAlert(entries[0], "too large for the receiver: " + e.Message)]);
            var half = entries.Count / 2;
            _countCap = Math.Min(_countCap, half);
            Log($"sink {Name}: the receiver refused {entries.Count} alerts as too large (413); sending at most {_countCap} a request");
            var first = await SendSplitting([.. entries.Take(half)], cancellation).ConfigureAwait(false);
            var second = await SendSplitting([.. entries.Skip(half)], cancellation).ConfigureAwait(false);
            return new DeliveryResult([.. first.Retry, .. second.Retry], [.. first.Rejected, .. second.Rejected]);
        }
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    /// <summary>A batch in flight: all its spool entries (acknowledged together), and those not yet taken.</summary>
    private sealed class Batch(IReadOnlyList<SpoolEntry> entries)
    {
        public IReadOnlyList<SpoolEntry> Entries { get; } = entries;
        public IReadOnlyList<SpoolEntry> Rest { get; set; } = entries;
        public int RejectedCount { get; set; }
    }

    private void Signal()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already signalled
        }
    }

    private async Task Wait(TimeSpan delay)
    {
        try
        {
            await _wake.WaitAsync(delay, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested)
            Stop();
        _target.Dispose();
        _spool.Dispose();
        _stop.Dispose();
        _abort.Dispose();
        _wake.Dispose();
    }
}
