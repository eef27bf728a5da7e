using System.Diagnostics;
using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Pipeline;

/// <summary>
/// The one pipeline every command configures: sources → events → rules → enrichment (baseline) → rules on the
/// findings (anomalies, the chain) → alerts at or above the minimum severity → sink, each as soon as it is final. Each input
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
    public Severity MinimumSeverity { get => _minimumSeverity; init => _minimumSeverity = value; }

    private Severity _minimumSeverity = Severity.Low;

    /// <summary>This pipeline with another minimum severity (a report shows every alert).</summary>
    public DetectionPipeline WithMinimumSeverity(Severity minimum)
    {
        var copy = (DetectionPipeline)MemberwiseClone();
        copy._minimumSeverity = minimum;
        return copy;
    }

    /// <summary>Read plain audit logs in two passes, fully parsing only what can matter.</summary>
    public bool UsePrefilter { get; init; } = true;

    /// <summary>Threads for pass one of a prefiltered read (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Told of every file read the fast way, so that a one-shot scan can set the heap aside.</summary>
    public ScanHeap? Heap { get; init; }

    /// <summary>The free bytes of a directory, where a .gz is unpacked for the prefilter (tests make it small; null: the file system's).</summary>
    internal Func<string, long>? FreeSpace { get; init; }

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

    /// <summary>
    /// Runs every input through the rules; alerts at or above the minimum severity go to <paramref name="sink"/> as
    /// soon as they are final (see <see cref="FindingsFlow"/> and <see cref="MetadataAccessDetector.StreamWindow"/>
    /// for the order), and the result counts them (<see cref="ScanResult.Tally"/>) without keeping them: memory does
    /// not grow with the number of alerts.
    /// </summary>
    public ScanResult Run(IReadOnlyList<InputSource> inputs, IAlertSink sink, CancellationToken cancellation = default) =>
        Run(inputs, sink, null, cancellation);

    /// <summary>Runs every input and returns the result with all its alerts, in time order (for tests and tools).</summary>
    public ScanResult Scan(IReadOnlyList<InputSource> inputs, CancellationToken cancellation = default)
    {
        var every = new List<Alert>();
        var result = KeepingAccesses(_ => true).Run(inputs, NullSink.Instance, every, cancellation);
        return result with { Alerts = [.. every.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal)] };
    }

    /// <summary>This pipeline keeping, in <see cref="ScanResult.Accesses"/>, the accesses <paramref name="which"/> picks (after the baseline).</summary>
    public DetectionPipeline KeepingAccesses(Func<MetadataAccess, bool> which)
    {
        var copy = (DetectionPipeline)MemberwiseClone();
        copy._keepAccess = which;
        return copy;
    }

    private Func<MetadataAccess, bool>? _keepAccess;

    private ScanResult Run(IReadOnlyList<InputSource> inputs, IAlertSink sink, List<Alert>? every, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var formats = new Dictionary<LogFormat, int>();
        var formatOf = new LogFormat[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
        {
            var format = formatOf[i] = EventSources.FormatOf(inputs[i]);
            formats[format] = formats.GetValueOrDefault(format) + 1;
        }
        var context = new RuleContext
        {
            Rules = rules,
            Cloud = Cloud,
            Baseline = Baseline,
            Anomaly = Anomaly,
            CloudTrailInputs = formats.ContainsKey(LogFormat.CloudTrail),
        };
        var eventRules = EventRules(context);
        var issues = new IssueLog(inputs);
        var tally = new AlertTally(MinimumSeverity);
        var accesses = new List<MetadataAccess>();
        var keep = _keepAccess;
        var flow = new FindingsFlow(RuleRegistry.Build(RuleStage.Findings, context), Baseline, alert =>
        {
            tally.Count(alert);
            every?.Add(alert);
            if (alert.Severity >= MinimumSeverity)
                sink.Emit(alert);
        })
        {
            OnAccess = keep is null ? null : a =>
            {
                if (keep(a))
                    accesses.Add(a);
            },
        };
        var sessions = new List<SessionEvent>();
        var counts = new EventCounts();
        var sources = new EventSources(rules.Candidates) { Prefilter = UsePrefilter, Workers = Workers, Heap = Heap, PrefilterBlockSize = PrefilterBlockSize, FreeSpace = FreeSpace };
        var sequence = new SyntheticSequence();
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
                Observe(rule, e, flow.First);
            if (!flow.IsEmpty)
                flow.Release();
        }

        // Consecutive audit logs the prefilter reads (a rotated set, oldest first) are read as one scan: as fast as
        // the same bytes in one file, and a process's ancestors are found also in the file before.
        void ReadAuditSet(PrefilteredAuditLogSource fast, int first, int last)
        {
            var contexts = new List<SourceContext>();
            var before = bytesBefore;
            for (var id = first; id <= last; id++)
            {
                var (input, sourceId, inputBefore) = (inputs[id], id, before);
                contexts.Add(new SourceContext(id, input.Name, DefaultHost, Dispatch, (line, reason) => issues.Add(sourceId, line, reason), sequence)
                {
                    Progress = Progress is null ? null : read => Progress(inputBefore + read, input),
                });
                before += input.Length ?? 0;
            }
            fast.Read([.. inputs.Skip(first).Take(last - first + 1)], contexts, cancellation);
            for (var id = first; id <= last; id++)
            {
                perInput[id] = contexts[id - first].Stats;
                bytesBefore += perInput[id].Bytes;
                Progress?.Invoke(bytesBefore, inputs[id]);
            }
        }

        var trails = new List<(int Id, InputSource Source)>();
        for (var id = 0; id < inputs.Count; id++)
        {
            var input = inputs[id];
            var format = formatOf[id];
            perInput[id] = new SourceStats();
            if (format == LogFormat.CloudTrail)
            {
                trails.Add((id, input)); // read together below: on every core, merged in time order
                continue;
            }
            var sourceId = id;
            var before = bytesBefore;
            var source = sources.For(format, input);
            if (source is PrefilteredAuditLogSource fast)
            {
                var last = id;
                while (last + 1 < inputs.Count && sources.ReadsFast(formatOf[last + 1], inputs[last + 1]))
                    last++;
                ReadAuditSet(fast, id, last);
                id = last;
                continue;
            }
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
                Progress is null ? null : (read, input) => Progress(before + read, input),
                (id, why) => perInput[id].Unreadable = why, cancellation);
            bytesBefore += trail.Bytes;
        }
        foreach (var rule in eventRules)
            rule.Complete(flow.First);
        flow.Complete();
        sink.Complete();
        context.Stats.Execs += perInput.Sum(s => s.SkippedExecs);
        context.Stats.Connects += perInput.Sum(s => s.SkippedConnects);

        return new ScanResult
        {
            Tally = tally,
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
            SilencedByBaseline = flow.Silenced,
            Elapsed = clock.Elapsed,
        };
    }

    /// <summary>The same pipeline fed event by event (the agent): alerts reach <paramref name="sink"/> as they become final.</summary>
    public LivePipeline Start(IAlertSink sink, TimeSpan window) => new(this, rules, sink, window);

    /// <summary>The normalized events of one input, for tests and tools that look below the alerts.</summary>
    public static List<IObservedEvent> ReadEvents(InputSource input, string? defaultHost = null, List<ParseIssue>? issues = null)
    {
        var events = new List<IObservedEvent>();
        var pipeline = new DetectionPipeline(DetectionRules.Default) { DefaultHost = defaultHost, UsePrefilter = false, OnEvent = events.Add };
        var result = pipeline.Scan([input]);
        issues?.AddRange(result.Issues);
        return events;
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
