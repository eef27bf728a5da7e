using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Sinks;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Pipeline;

/// <summary>
/// The detection pipeline fed one event at a time, for the agent: the same rules, baseline stage and rules on the
/// findings as <see cref="DetectionPipeline.Run"/>, but each alert goes to the sink as soon as it is final — once
/// event time has moved <c>window</c> past the activity it folds. Anomaly alerts are held to a budget (at most
/// <see cref="AnomalyBudget"/>: 100 per 15 minutes, the rest counted); detection alerts never are.
/// Not thread-safe: one thread feeds it and calls <see cref="Advance"/>.
/// </summary>
public sealed class LivePipeline
{

    // Rules are asked for final findings at most this often in event time: Advance walks the open activities.
    private static readonly TimeSpan AdvanceStep = TimeSpan.FromMilliseconds(100);

    private readonly DetectionPipeline _settings;
    private readonly IAlertSink _sink;
    private readonly List<IDetectionRule> _eventRules;
    private readonly FindingsFlow _flow;
    private readonly SyntheticSequence _sequence = new();
    private readonly AnomalyBudget _budget = new();
    private DateTimeOffset _lastAdvance = DateTimeOffset.MinValue;
    private readonly EventSources _sources;
    private int _sourceCount;

    internal LivePipeline(DetectionPipeline settings, DetectionRules rules, IAlertSink sink, TimeSpan window)
    {
        _settings = settings;
        _sink = sink;
        Window = window;
        var context = new RuleContext { Rules = rules, Cloud = settings.Cloud, Baseline = settings.Baseline, Anomaly = settings.Anomaly, LiveWindow = window, Live = true, Stats = Stats };
        _sources = new EventSources(rules.Candidates) { Prefilter = false };
        _eventRules = settings.EventRules(context);
        _flow = new FindingsFlow(RuleRegistry.Build(RuleStage.Findings, context), settings.Baseline, Emit) { TimeOrderEachRelease = true };
    }

    public TimeSpan Window { get; }

    /// <summary>The latest event time seen (the live clock of detection).</summary>
    public DateTimeOffset EventTime { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>What the rules counted, their evictions at their live bounds among it.</summary>
    public DetectionStats Stats { get; } = new();

    /// <summary>The reader of a followed file's format, fed a line at a time (never the two-pass audit reader).</summary>
    public LineSource LineSourceFor(LogFormat format, InputSource input) => (LineSource)_sources.For(format, input);

    public long Events { get; private set; }
    public long Alerts { get; private set; }
    public long Issues { get; private set; }
    public long AnomaliesHeldBack => _budget.HeldBack;

    /// <summary>Called for every unreadable line (name, line, reason), e.g. to log the first few.</summary>
    public Action<string, long, string>? OnIssue { get; init; }

    /// <summary>A context a source reads into (one per input: stdin, each followed file).</summary>
    public SourceContext CreateSource(string name) =>
        new(_sourceCount++, name, _settings.DefaultHost, Observe, (line, reason) =>
        {
            Issues++;
            OnIssue?.Invoke(name, line, reason);
        }, _sequence);

    /// <summary>One event, in its log's order.</summary>
    public void Observe(IObservedEvent e)
    {
        Events++;
        if (e is SessionEvent)
            return;
        foreach (var rule in _eventRules)
            _settings.Observe(rule, e, _flow.First);
        if (e.Timestamp > EventTime)
            EventTime = e.Timestamp;
        if (EventTime - _lastAdvance >= AdvanceStep)
            Advance(EventTime);
        else
            _flow.Release(); // rules that raise at once (web, CloudTrail) need no window
    }

    /// <summary>Event time has reached <paramref name="now"/> (a quiet input: the caller advances by the wall clock).</summary>
    public void Advance(DateTimeOffset now)
    {
        if (now > EventTime)
            EventTime = now;
        _lastAdvance = EventTime;
        foreach (var rule in _eventRules)
            rule.Advance(EventTime, _flow.First);
        _flow.Release(EventTime);
    }

    /// <summary>The end of the input (EOF, shutdown): everything pending becomes final and the sink completes.</summary>
    public void Complete()
    {
        foreach (var rule in _eventRules)
            rule.Complete(_flow.First);
        _flow.Complete();
        _sink.Complete();
    }

    private void Emit(Alert alert)
    {
        if (IsAnomaly(alert) && !_budget.TrySpend(alert.Timestamp))
            return;
        Alerts++;
        if (alert.Severity >= _settings.MinimumSeverity)
            _sink.Emit(alert);
    }

    private static bool IsAnomaly(Alert a) => a.AlertType is AlertType.UnusualMetadataUser or AlertType.UnusualMetadataProcess;
}
