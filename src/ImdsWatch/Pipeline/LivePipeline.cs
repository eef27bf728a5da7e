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
    private readonly List<IDetectionRule> _findingRules;
    private readonly BaselineStage? _baseline;
    private readonly Findings _first = new();
    private readonly Findings _second = new();
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
        _findingRules = RuleRegistry.Build(RuleStage.Findings, context);
        _baseline = settings.Baseline is { IsEmpty: false } b ? new BaselineStage(b) : null;
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
            _settings.Observe(rule, e, _first);
        if (e.Timestamp > EventTime)
            EventTime = e.Timestamp;
        if (EventTime - _lastAdvance >= AdvanceStep)
            Advance(EventTime);
        else
            Release(); // rules that raise at once (syslog, web, CloudTrail) need no window
    }

    /// <summary>Event time has reached <paramref name="now"/> (a quiet input: the caller advances by the wall clock).</summary>
    public void Advance(DateTimeOffset now)
    {
        if (now > EventTime)
            EventTime = now;
        _lastAdvance = EventTime;
        foreach (var rule in _eventRules)
            rule.Advance(EventTime, _first);
        Release();
    }

    /// <summary>The end of the input (EOF, shutdown): everything pending becomes final and the sink completes.</summary>
    public void Complete()
    {
        foreach (var rule in _eventRules)
            rule.Complete(_first);
        Release();
        foreach (var rule in _findingRules)
            rule.Complete(_second);
        Emit(_second.Take());
        _sink.Complete();
    }

    /// <summary>Final first-stage findings through the baseline and the rules on findings, then to the sink.</summary>
    private void Release()
    {
        if (_first.IsEmpty)
            return;
        var (raised, accesses) = (_first.Take(), _first.TakeAccesses());
        var enriched = accesses.Select(a => _baseline?.Enrich(a) ?? a).ToList();
        var alerts = raised.Concat(enriched.Select(a => a.Alert).OfType<Alert>())
            .OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
        foreach (var rule in _findingRules)
        {
            foreach (var access in enriched)
                rule.Observe(access, _second);
            foreach (var alert in alerts)
                rule.Observe(alert, _second);
            rule.Advance(EventTime, _second);
        }
        Emit(alerts);
        Emit(_second.Take());
    }

    private void Emit(List<Alert> alerts)
    {
        foreach (var alert in alerts)
        {
            if (IsAnomaly(alert) && !_budget.TrySpend(alert.Timestamp))
                continue;
            Alerts++;
            if (alert.Severity >= _settings.MinimumSeverity)
                _sink.Emit(alert);
        }
    }

    private static bool IsAnomaly(Alert a) => a.AlertType is AlertType.UnusualMetadataUser or AlertType.UnusualMetadataProcess;

    private sealed class Findings : IFindings
    {
        private List<Alert> _alerts = [];
        private List<MetadataAccess> _accesses = [];

        public bool IsEmpty => _alerts.Count == 0 && _accesses.Count == 0;

        public void Raise(Alert alert) => _alerts.Add(alert);

        public void Record(MetadataAccess access) => _accesses.Add(access);

        public List<Alert> Take()
        {
            var taken = _alerts;
            _alerts = [];
            return taken;
        }

        public List<MetadataAccess> TakeAccesses()
        {
            var taken = _accesses;
            _accesses = [];
            return taken;
        }
    }
}
