using System.Diagnostics;
using System.Globalization;
using System.Text;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Agent;

/// <summary>
/// The agent's loop: audit records from the <see cref="RecordPump"/> through the live pipeline to the sinks.
/// When the input is quiet, event time is moved on by the wall clock from the last record, so an alert is final
/// a window after its last event even if nothing else arrives. Ends at end of input or when stopped; either way
/// pending alerts are completed and the sinks flushed. A reload swaps in a new pipeline and sinks between records.
/// </summary>
public sealed class AgentHost
{
    private static readonly TimeSpan IdleTick = TimeSpan.FromMilliseconds(100);
    private readonly Func<AgentRuntime> _build;
    private readonly Action<string> _log;
    private AgentRuntime _runtime;
    private AuditEventBuilder _builder;
    private SourceContext _source;
    private long _line;
    private int _reload;
    private long _issuesBefore;
    private long _eventsBefore;
    private long _alertsBefore;

    public AgentHost(Func<AgentRuntime> build, Action<string> log)
    {
        _build = build;
        _log = log;
        _runtime = build();
        (_source, _builder) = Attach(_runtime);
    }

    /// <summary>How often a stats line is logged (zero: never).</summary>
    public TimeSpan StatsInterval { get; init; } = TimeSpan.FromMinutes(5);

    public long Records { get; private set; }

    /// <summary>Reload the configuration before the next record (SIGHUP); safe from any thread.</summary>
    public void RequestReload() => Interlocked.Exchange(ref _reload, 1);

    /// <summary>Runs until the queue completes (EOF) or <paramref name="stop"/>; then completes the pipeline and sinks.</summary>
    public void Run(RecordPump queue, CancellationToken stop)
    {
        var reader = queue.Reader;
        var wallAtBase = Stopwatch.GetTimestamp();
        var eventTimeAtBase = DateTimeOffset.MinValue;
        var quietSince = Stopwatch.GetTimestamp();
        var flushedWhileQuiet = false;
        var nextStats = Stopwatch.GetTimestamp() + (long)(StatsInterval.TotalSeconds * Stopwatch.Frequency);
        while (!stop.IsCancellationRequested)
        {
            if (Interlocked.Exchange(ref _reload, 0) == 1)
                Reload();
            if (StatsInterval > TimeSpan.Zero && Stopwatch.GetTimestamp() >= nextStats)
            {
                if (Records > 0)
                    _log(StatsLine(queue));
                nextStats = Stopwatch.GetTimestamp() + (long)(StatsInterval.TotalSeconds * Stopwatch.Frequency);
            }
            if (reader.TryRead(out var line))
            {
                Records++;
                _builder.Add(line, ++_line);
                var pipeline = _runtime.Pipeline;
                if (pipeline.EventTime > eventTimeAtBase)
                    (eventTimeAtBase, wallAtBase) = (pipeline.EventTime, Stopwatch.GetTimestamp());
                quietSince = Stopwatch.GetTimestamp();
                flushedWhileQuiet = false;
                continue;
            }
            if (reader.Completion.IsCompleted)
                break;
            try
            {
                reader.WaitToReadAsync(stop).AsTask().Wait(IdleTick, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (AggregateException e) when (e.InnerException is OperationCanceledException)
            {
                break;
            }
            var quiet = Stopwatch.GetElapsedTime(quietSince);
            if (!flushedWhileQuiet && quiet >= _runtime.Pipeline.Window / 2)
            {
                // Records of one event arrive together: after a quiet spell an open event (no EOE) is complete.
                _builder.Flush();
                flushedWhileQuiet = true;
            }
            if (eventTimeAtBase != DateTimeOffset.MinValue)
                _runtime.Pipeline.Advance(eventTimeAtBase + Stopwatch.GetElapsedTime(wallAtBase));
        }
        _builder.Flush();
        _runtime.Pipeline.Complete();
        _log(StatsLine(queue));
        _runtime.Dispose();
    }

    public string StatsLine(RecordPump queue)
    {
        var p = _runtime.Pipeline;
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"stats: records {queue.Read}, queue drops {queue.Dropped}, events {_eventsBefore + p.Events}, alerts {_alertsBefore + p.Alerts}, unreadable {_issuesBefore + p.Issues}, anomalies held back {p.AnomaliesHeldBack}"));
        foreach (var sink in _runtime.Sinks.OfType<SpooledSink>())
            line.Append(CultureInfo.InvariantCulture, $"; sink {sink.Name}: delivered {sink.Delivered}, backlog {sink.Backlog}, failures {sink.Failures}, spool drops {sink.Dropped}");
        return line.ToString();
    }

    private void Reload()
    {
        AgentRuntime next;
        try
        {
            next = _build();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or FormatException)
        {
            _log($"reload failed, keeping the running configuration: {e.Message}");
            return;
        }
        _builder.Flush();
        var old = _runtime;
        (_issuesBefore, _eventsBefore, _alertsBefore) = (_issuesBefore + old.Pipeline.Issues, _eventsBefore + old.Pipeline.Events, _alertsBefore + old.Pipeline.Alerts);
        old.Pipeline.Complete();
        old.Dispose();
        _runtime = next;
        (_source, _builder) = Attach(next);
        _log($"configuration reloaded: {next.Sinks.Count} sink(s)");
    }

    private static (SourceContext, AuditEventBuilder) Attach(AgentRuntime runtime)
    {
        var source = runtime.Pipeline.CreateSource("<stdin>");
        return (source, new AuditEventBuilder(source));
    }
}
