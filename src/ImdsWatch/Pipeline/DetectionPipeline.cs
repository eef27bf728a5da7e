using System.Diagnostics;
using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Pipeline;

/// <summary>
/// The one pipeline every command configures: sources → events → rules → enrichment (baseline) → rules on the
/// findings (anomalies, the chain) → alerts, in time order, at or above the minimum severity → sink. Each input
/// goes to the source of its format; bad lines become <see cref="ParseIssue"/>s and never stop the run.
/// </summary>
public sealed class DetectionPipeline(DetectionRules rules)
{
    public const int MaxIssueDetails = 1000;

    /// <summary>Host name for records that carry none.</summary>
    public string? DefaultHost { get; init; }

    public CloudTrailOptions Cloud { get; init; } = new();

    /// <summary>The learned baseline: silences known use and feeds the anomaly rules (none: neither runs).</summary>
    public BaselineSnapshot? Baseline { get; init; }

    public AnomalyOptions Anomaly { get; init; } = new();

    /// <summary>Alerts below this reach no sink (they are still counted in the result).</summary>
    public Severity MinimumSeverity { get; init; } = Severity.Low;

    /// <summary>Read plain audit logs in two passes, fully parsing only what can matter.</summary>
    public bool UsePrefilter { get; init; } = true;

    /// <summary>Threads for pass one of a prefiltered read (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Told of every file read the fast way, so that a one-shot scan can set the heap aside.</summary>
    public ScanHeap? Heap { get; init; }

    /// <summary>Block size of pass one (tests make it tiny, so that records and lines straddle blocks).</summary>
    internal int PrefilterBlockSize { get; init; } = Sources.Auditd.Prefilter.ParallelBlockPass.DefaultBlockSize;

    /// <summary>
    /// Inputs of the full parser from this size on have the rules run on a thread of their own (tests: 0, so that
    /// small files take that path too, or <see cref="long.MaxValue"/> for none).
    /// </summary>
    internal long RulesThreadFrom { get; init; } = EventHandoff.WorthFrom;

    /// <summary>Called now and then with (bytes read so far over all inputs, current input).</summary>
    public Action<long, InputSource>? Progress { get; init; }

    /// <summary>Called with every event a source yields, before the rules see it (the events command).</summary>
    public Action<IObservedEvent>? OnEvent { get; init; }

    private Action<EvidenceRef, Exception>? _onRuleFailure;
    private IReadOnlyList<RuleRegistration> _extraRules = [];

    /// <summary>
    /// This pipeline for the long-running commands (run, the agent): a rule that throws on one event is a bug, but
    /// the record is skipped for that rule and <paramref name="report"/> told (file, line, exception), and the run
    /// goes on: one bad record must not stop detection on every record after it. <paramref name="extraRules"/>
    /// are run after the registry's (tests inject a failing rule).
    /// </summary>
    public DetectionPipeline SkippingRuleFailures(Action<EvidenceRef, Exception> report) => SkippingRuleFailures(report, []);

    internal DetectionPipeline SkippingRuleFailures(Action<EvidenceRef, Exception> report, IReadOnlyList<RuleRegistration> extraRules)
    {
        var copy = (DetectionPipeline)MemberwiseClone();
        copy._onRuleFailure = report;
        copy._extraRules = extraRules;
        return copy;
    }

    /// <summary>The event rules of the registry, then any extra ones.</summary>
    internal List<IDetectionRule> EventRules(RuleContext context)
    {
        var rules = RuleRegistry.Build(RuleStage.Events, context);
        rules.AddRange(_extraRules.Select(r => r.Create(context)).OfType<IDetectionRule>());
        return rules;
    }

    /// <summary>One event to one rule, under the failure policy.</summary>
    internal void Observe(IDetectionRule rule, IObservedEvent e, IFindings findings)
    {
        if (_onRuleFailure is null)
        {
            rule.Observe(e, findings);
            return;
        }
        try
        {
            rule.Observe(e, findings);
        }
        catch (Exception x) when (x is not (OperationCanceledException or OutOfMemoryException))
        {
            _onRuleFailure(e.Evidence, x);
        }
    }

    /// <summary>Runs every input through the rules; alerts at or above the minimum severity go to <paramref name="sink"/>.</summary>
    public ScanResult Run(IReadOnlyList<InputSource> inputs, IAlertSink sink, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var context = new RuleContext { Rules = rules, Cloud = Cloud, Baseline = Baseline, Anomaly = Anomaly };
        var eventRules = EventRules(context);
        var issues = new IssueLog(inputs);
        var collected = new Findings();
        var sessions = new List<SessionEvent>();
        var counts = new EventCounts();
        var sources = new EventSources(rules.Candidates) { Prefilter = UsePrefilter, Workers = Workers, Heap = Heap, PrefilterBlockSize = PrefilterBlockSize };
        var sequence = new SyntheticSequence();
        var formats = new Dictionary<LogFormat, int>();
        var perInput = new SourceStats[inputs.Count];
        long bytesBefore = 0;

        void Dispatch(IObservedEvent e)
        {
            OnEvent?.Invoke(e);
            counts.Count(e);
            if (e is SessionEvent session)
            {
                sessions.Add(session);
                return;
            }
            foreach (var rule in eventRules)
                Observe(rule, e, collected);
        }

        var trails = new List<(int Id, InputSource Source)>();
        for (var id = 0; id < inputs.Count; id++)
        {
            var input = inputs[id];
            var format = EventSources.FormatOf(input);
            formats[format] = formats.GetValueOrDefault(format) + 1;
            perInput[id] = new SourceStats();
            if (format == LogFormat.CloudTrail)
            {
                trails.Add((id, input)); // read together below: on every core, merged in time order
                continue;
            }
            var sourceId = id;
            var before = bytesBefore;
            var source = sources.For(format, input);
            Action<long, string> issue = (line, reason) => issues.Add(sourceId, line, reason);
            using var handoff = EventHandoff.IsWorthIt(source, input.Length - input.Offset, RulesThreadFrom)
                ? new EventHandoff(input.Name, Dispatch, issue)
                : null;
            var sourceContext = new SourceContext(id, input.Name, DefaultHost, handoff is null ? Dispatch : handoff.Emit, handoff is null ? issue : handoff.Issue, sequence)
            {
                Progress = Progress is null ? null : read => Progress(before + read, input),
            };
            source.Read(input, sourceContext, cancellation);
            handoff?.Complete();
            perInput[id] = sourceContext.Stats;
            bytesBefore += sourceContext.Stats.Bytes;
            Progress?.Invoke(bytesBefore, input);
        }
        CloudTrailStats? trail = null;
        if (trails.Count > 0)
        {
            var before = bytesBefore;
            trail = new CloudTrailSource { Workers = Workers }.Read(trails, Dispatch, issues.Add,
                Progress is null ? null : (read, input) => Progress(before + read, input), cancellation);
            bytesBefore += trail.Bytes;
        }
        foreach (var rule in eventRules)
            rule.Complete(collected);
        context.Stats.Execs += perInput.Sum(s => s.SkippedExecs);
        context.Stats.Connects += perInput.Sum(s => s.SkippedConnects);

        var (alerts, accesses, silenced) = Correlate(collected, context);
        var ordered = alerts.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
        foreach (var alert in ordered)
        {
            if (alert.Severity >= MinimumSeverity)
                sink.Emit(alert);
        }
        sink.Complete();

        return new ScanResult
        {
            Alerts = ordered,
            Accesses = accesses,
            Sessions = sessions,
            Detection = context.Stats,
            Issues = issues.Details,
            IssueCount = issues.Count,
            Files = [.. inputs.Select(i => i.Name)],
            Formats = formats,
            Inputs = perInput,
            ApiCalls = trail is null ? counts.ApiCalls : (int)trail.Events,
            CloudTrail = trail is null ? null : trail with { Evicted = context.Stats.CloudEvicted, EvidenceNotKept = context.Stats.CloudEvidenceNotKept },
            HttpRequests = counts.HttpRequests,
            Lines = perInput.Sum(s => s.Lines),
            Records = perInput.Sum(s => s.Records) + (trail?.Records ?? 0),
            Events = perInput.Sum(s => s.Events),
            Bytes = perInput.Sum(s => s.Bytes) + (trail?.Bytes ?? 0),
            LateRecords = perInput.Sum(s => s.LateRecords),
            RecordsParsed = perInput.Sum(s => s.RecordsParsed),
            SilencedByBaseline = silenced,
            Elapsed = clock.Elapsed,
        };
    }

    /// <summary>The same pipeline fed event by event (the agent): alerts reach <paramref name="sink"/> as they become final.</summary>
    public LivePipeline Start(IAlertSink sink, TimeSpan window) => new(this, rules, sink, window);

    /// <summary>Runs every input and returns the result with all its alerts (for tests and tools).</summary>
    public ScanResult Scan(IReadOnlyList<InputSource> inputs, CancellationToken cancellation = default) =>
        Run(inputs, NullSink.Instance, cancellation);

    /// <summary>
    /// The baseline stage on each access, then the rules on the findings: anomaly rules see the accesses, the
    /// chain sees the alerts.
    /// </summary>
    private (List<Alert> Alerts, List<MetadataAccess> Accesses, int Silenced) Correlate(Findings first, RuleContext context)
    {
        var baseline = Baseline is { IsEmpty: false } b ? new BaselineStage(b) : null;
        var accesses = first.Accesses.Select(a => baseline?.Enrich(a) ?? a).ToList();
        var alerts = new List<Alert>(first.Alerts);
        alerts.AddRange(accesses.Select(a => a.Alert).OfType<Alert>());

        var findingRules = RuleRegistry.Build(RuleStage.Findings, context);
        var second = new Findings();
        foreach (var rule in findingRules)
        {
            foreach (var access in accesses)
                rule.Observe(access, second);
            foreach (var alert in alerts.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal))
                rule.Observe(alert, second);
            rule.Complete(second);
        }
        alerts.AddRange(second.Alerts);
        return (alerts, accesses, baseline?.Silenced ?? 0);
    }

    /// <summary>The normalized events of one input, for tests and tools that look below the alerts.</summary>
    public static List<IObservedEvent> ReadEvents(InputSource input, string? defaultHost = null, List<ParseIssue>? issues = null)
    {
        var events = new List<IObservedEvent>();
        var pipeline = new DetectionPipeline(DetectionRules.Default) { DefaultHost = defaultHost, UsePrefilter = false, OnEvent = events.Add };
        var result = pipeline.Scan([input]);
        issues?.AddRange(result.Issues);
        return events;
    }

    private sealed class Findings : IFindings
    {
        public List<Alert> Alerts { get; } = [];
        public List<MetadataAccess> Accesses { get; } = [];

        public void Raise(Alert alert) => Alerts.Add(alert);

        public void Record(MetadataAccess access) => Accesses.Add(access);
    }

    /// <summary>Counts of what the rules saw, by kind, for the summary.</summary>
    private sealed class EventCounts
    {
        public int ApiCalls { get; private set; }
        public int HttpRequests { get; private set; }

        public void Count(IObservedEvent e)
        {
            if (e is ApiCall)
                ApiCalls++;
            else if (e is HttpRequest)
                HttpRequests++;
        }
    }

    /// <summary>Every issue counted; the first <see cref="MaxIssueDetails"/> kept with file and line.</summary>
    private sealed class IssueLog(IReadOnlyList<InputSource> inputs)
    {
        public List<ParseIssue> Details { get; } = [];
        public long Count { get; private set; }

        public void Add(int sourceId, long line, string reason)
        {
            Count++;
            if (Details.Count < MaxIssueDetails)
                Details.Add(new ParseIssue(inputs[sourceId].Name, line, reason));
        }
    }
}
