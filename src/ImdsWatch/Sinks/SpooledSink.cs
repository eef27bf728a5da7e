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
/// a delivery thread sends the oldest spooled alerts in batches through retries with backoff and a circuit breaker
/// (Polly), and acknowledges them in the spool only once the receiver accepted them. An outage or a restart
/// delays delivery and loses nothing (until the spool is full: then the oldest go, counted).
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
        _delivery = Task.Run(DeliverAsync);
    }

    public string Name => _settings.Name;

    /// <summary>The longest pause between delivery attempts while the receiver fails: twice the breaker's break, at most 30 s.</summary>
    private TimeSpan MaxPause => TimeSpan.FromTicks(Math.Clamp(_settings.BreakDuration.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks, TimeSpan.FromSeconds(30).Ticks));

    /// <summary>Told of delivery failures and drops, one line each (the agent writes them to stderr).</summary>
    public Action<string> Log { get; }

    public long Delivered => Interlocked.Read(ref _delivered);
    public long Failures => Interlocked.Read(ref _failures);
    public long Backlog => _spool.Pending;
    public long Dropped => _spool.Dropped;

    /// <summary>How long <see cref="Complete"/> waits for the backlog to drain before leaving it in the spool.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public void Emit(Alert alert)
    {
        if (alert.Severity < _settings.MinimumSeverity)
            return;
        _spool.Append(alert.Id, NdjsonAlertWriter.ToJson(alert));
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
        while (!_stop.IsCancellationRequested)
        {
            var batch = _spool.Peek(Math.Max(1, Math.Min(_settings.BatchSize, _target.MaxBatch)));
            if (batch.Count == 0)
            {
                await Wait(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                continue;
            }
            try
            {
                await _resilience.ExecuteAsync(async token => await _target.SendAsync(batch, token).ConfigureAwait(false), _abort.Token).ConfigureAwait(false);
                _spool.Acknowledge(batch);
                Interlocked.Add(ref _delivered, batch.Count);
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
