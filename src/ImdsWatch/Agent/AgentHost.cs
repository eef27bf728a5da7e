using System.Diagnostics;
using System.Globalization;
using System.Text;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Agent;

/// <summary>
/// The agent's loop, on one thread: audit records from the <see cref="RecordPump"/> (the auditd plugin's stdin) and
/// lines of the followed files through the live pipeline to the sinks. A timer tick (every
/// <see cref="IdleTick"/>) moves event time on by the wall clock from the last record when the input is quiet, so an
/// alert is final a window (or, for an activity that cannot fold further, a fraction of a second) after its last
/// event even if nothing else arrives. Followed files are read when inotify wakes the loop, and at least every
/// <see cref="FollowPoll"/>; their checkpoints are saved once the alerts of what was read are final. Ends at end of
/// stdin (or when stopped; with files only, when stopped): pending alerts are completed, checkpoints saved, sinks
/// flushed. A reload swaps in a new pipeline and sinks between records.
/// </summary>
public sealed class AgentHost : IDisposable
{
    public static readonly TimeSpan IdleTick = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan FollowPoll = TimeSpan.FromSeconds(1);

    /// <summary>Records of one event arrive together: after this much quiet an event still open (no EOE) is complete.</summary>
    private static readonly TimeSpan QuietFlush = TimeSpan.FromMilliseconds(200);
    private const int MaxLinesPerTurn = 4096;

    private readonly Func<Func<AgentRuntime>> _prepare;
    private readonly Action<string> _log;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private AgentRuntime _runtime;
    private AuditEventBuilder _builder;
    private long _line;
    private int _reload;
    private long _issuesBefore;
    private long _eventsBefore;
    private long _alertsBefore;
    private long _heldBackBefore;
    private long _heldBackWarned;
    private long _nextHeldBackWarning;

    /// <param name="prepare">Reads and checks the configuration (throws when it is wrong); what it returns builds the
    /// sinks and the pipeline, called only once the previous ones are gone (a sink's spool has one owner at a time).</param>
    public AgentHost(Func<Func<AgentRuntime>> prepare, Action<string> log, IReadOnlyList<FileFollower>? follow = null)
    {
        _prepare = prepare;
        _log = log;
        Followers = follow ?? [];
        _runtime = prepare()();
        _builder = Attach(_runtime);
    }

    /// <summary>How often a stats line is logged (zero: never).</summary>
    public TimeSpan StatsInterval { get; init; } = TimeSpan.FromMinutes(5);

    public IReadOnlyList<FileFollower> Followers { get; }

    public long Records { get; private set; }

    /// <summary>Reload the configuration before the next record (SIGHUP); safe from any thread.</summary>
    public void RequestReload() => Interlocked.Exchange(ref _reload, 1);

    /// <summary>Wakes the loop to read the followed files (inotify); safe from any thread.</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // already awake
        }
    }

    /// <summary>
    /// Runs until <paramref name="pump"/> completes (EOF) or <paramref name="stop"/> (with no pump: until stopped);
    /// then completes the pipeline, saves the checkpoints and flushes the sinks.
    /// </summary>
    public void Run(RecordPump? pump, CancellationToken stop)
    {
        foreach (var follower in Followers)
            follower.Start();
        var wallAtBase = Stopwatch.GetTimestamp();
        var eventTimeAtBase = DateTimeOffset.MinValue;
        var quietSince = Stopwatch.GetTimestamp();
        var flushedWhileQuiet = false;
        var nextStats = Stopwatch.GetTimestamp() + Ticks(StatsInterval);
        var nextPoll = 0L;
        var nextCommit = Stopwatch.GetTimestamp() + Ticks(FollowPoll);
        Task? wakeTask = null;
        Task? readTask = null;
        var woken = false;
        while (!stop.IsCancellationRequested)
        {
            if (Interlocked.Exchange(ref _reload, 0) == 1)
                Reload();
            var now = Stopwatch.GetTimestamp();
            if (StatsInterval > TimeSpan.Zero && now >= nextStats)
            {
                if (Records > 0 || Followers.Count > 0)
                    _log(StatsLine(pump));
                nextStats = now + Ticks(StatsInterval);
            }
            WarnOfHeldBackAnomalies(now);
            long read = 0;
            while (pump is not null && read < MaxLinesPerTurn && pump.Reader.TryRead(out var line))
            {
                Records++;
                read++;
                _builder.Add(line, ++_line);
            }
            if (woken || now >= nextPoll)
            {
                foreach (var follower in Followers)
                    read += follower.Poll();
                (woken, nextPoll) = (false, now + Ticks(FollowPoll));
            }
            if (read > 0)
            {
                var pipeline = _runtime.Pipeline;
                if (pipeline.EventTime > eventTimeAtBase)
                    (eventTimeAtBase, wallAtBase) = (pipeline.EventTime, Stopwatch.GetTimestamp());
                (quietSince, flushedWhileQuiet) = (Stopwatch.GetTimestamp(), false);
                continue;
            }
            if (pump is not null && pump.Reader.Completion.IsCompleted)
                break;
            try
            {
                wakeTask ??= _wake.WaitAsync(stop);
                readTask ??= pump?.Reader.WaitToReadAsync(stop).AsTask();
                Task.WaitAny(readTask is null ? [wakeTask] : [wakeTask, readTask], (int)IdleTick.TotalMilliseconds, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (wakeTask.IsCompleted)
                (woken, wakeTask) = (wakeTask.IsCompletedSuccessfully, null);
            if (readTask?.IsCompleted == true)
                readTask = null;
            if (!flushedWhileQuiet && Stopwatch.GetElapsedTime(quietSince) >= Min(QuietFlush, _runtime.Pipeline.Window / 2))
            {
                _builder.Flush();
                foreach (var follower in Followers)
                    follower.Flush();
                flushedWhileQuiet = true;
            }
            if (eventTimeAtBase != DateTimeOffset.MinValue)
                _runtime.Pipeline.Advance(eventTimeAtBase + Stopwatch.GetElapsedTime(wallAtBase));
            if (Followers.Count > 0 && Stopwatch.GetTimestamp() >= nextCommit)
            {
                var settled = _runtime.Pipeline.Window + QuietFlush + FollowPoll;
                foreach (var follower in Followers)
                    follower.Commit(settled);
                nextCommit = Stopwatch.GetTimestamp() + Ticks(FollowPoll);
            }
        }
        FlushInputs();
        _runtime.Pipeline.Complete();
        foreach (var follower in Followers)
            follower.CommitAll();
        _log(StatsLine(pump));
        _runtime.Dispose();
        foreach (var follower in Followers)
            follower.Dispose();
    }

    public string StatsLine(RecordPump? pump)
    {
        var p = _runtime.Pipeline;
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"stats: records {pump?.Read ?? 0}, queue drops {pump?.Dropped ?? 0}, events {_eventsBefore + p.Events}, alerts {_alertsBefore + p.Alerts}, unreadable {_issuesBefore + p.Issues}, anomalies held back {_heldBackBefore + p.AnomaliesHeldBack}"));
        foreach (var follower in Followers)
            line.Append(CultureInfo.InvariantCulture, $"; follow {follower.Path}: lines {follower.Lines}, rotations {follower.Rotations}");
        foreach (var (table, count) in p.Stats.Evicted)
            line.Append(CultureInfo.InvariantCulture, $"; evicted from {table} {count}");
        foreach (var sink in _runtime.Sinks.OfType<SpooledSink>())
            line.Append(CultureInfo.InvariantCulture, $"; sink {sink.Name}: delivered {sink.Delivered} in {sink.Requests} request(s), backlog {sink.Backlog}, failures {sink.Failures}, rejected {sink.Rejected}, spool drops {sink.Dropped}");
        return line.ToString();
    }

    /// <summary>A counted warning, at most once a minute, while the anomaly budget holds alerts back.</summary>
    private void WarnOfHeldBackAnomalies(long now)
    {
        var heldBack = _heldBackBefore + _runtime.Pipeline.AnomaliesHeldBack;
        if (heldBack <= _heldBackWarned || now < _nextHeldBackWarning)
            return;
        _log($"warning: anomaly budget spent ({Pipeline.AnomalyBudget.DefaultLimit} per {Pipeline.AnomalyBudget.DefaultPeriod.TotalMinutes:0} min of event time): {heldBack} anomaly alert(s) held back so far; detection alerts are never held");
        (_heldBackWarned, _nextHeldBackWarning) = (heldBack, now + Ticks(TimeSpan.FromMinutes(1)));
    }

    private void FlushInputs()
    {
        _builder.Flush();
        foreach (var follower in Followers)
            follower.Flush();
    }

    private void Reload()
    {
        Func<AgentRuntime> create;
        try
        {
            create = _prepare();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or FormatException)
        {
            _log($"reload failed, keeping the running configuration: {e.Message}");
            return;
        }
        FlushInputs();
        var old = _runtime;
        (_issuesBefore, _eventsBefore, _alertsBefore, _heldBackBefore) = (_issuesBefore + old.Pipeline.Issues, _eventsBefore + old.Pipeline.Events, _alertsBefore + old.Pipeline.Alerts, _heldBackBefore + old.Pipeline.AnomaliesHeldBack);
        old.Pipeline.Complete(); // pending alerts become final and go to the old sinks; what they did not deliver stays spooled
        foreach (var follower in Followers)
            follower.CommitAll();
        old.Dispose();
        _runtime = create();
        _builder = Attach(_runtime);
        _log($"configuration reloaded: {_runtime.Sinks.Count} sink(s)");
    }

    private AuditEventBuilder Attach(AgentRuntime runtime)
    {
        foreach (var follower in Followers)
            follower.Attach(runtime.Pipeline);
        return new AuditEventBuilder(runtime.Pipeline.CreateSource("<stdin>"));
    }

    public void Dispose() => _wake.Dispose();

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
