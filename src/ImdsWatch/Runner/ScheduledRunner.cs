using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Sinks;
using ImdsWatch.Store;

namespace ImdsWatch.Runner;

/// <summary>
/// One evaluation of every rule over the look-back window, as a SIEM schedules it: read each live log from the
/// checkpoint before the window, run the pipeline (the same one <c>scan</c> runs, with the same configuration),
/// and raise the alerts of the window that were not raised before (stable ids make overlapping windows safe), at
/// most <see cref="RunOptions.MaxAlerts"/>.
/// Delivery is at least once: an alert goes to the output before it is stored as raised, and the alerts, the
/// held-back queue, the checkpoints and the run's time are stored in one transaction. A run killed anywhere
/// before that commit leaves the state as the run before left it, so the next run reads and raises the same
/// alerts again: printed twice, never lost. One run at a time on a state (<see cref="RunLock"/>).
/// </summary>
public sealed class ScheduledRunner(StateStore store, EffectiveConfig config, RunOptions options)
{
    /// <summary>Rules run after the registry's (tests inject one that fails).</summary>
    internal IReadOnlyList<Pipeline.RuleRegistration> ExtraRules { get; init; } = [];

    public RunReport RunOnce(IReadOnlyList<string> paths, DateTimeOffset now, IAlertSink output, CancellationToken cancellation = default)
    {
        using var runLock = RunLock.Take(store.Path, options.LockWait, cancellation);
        var warnings = new List<string>();
        var reader = new IncrementalReader(store);
        var history = new RunHistory(store);
        var windowStart = WindowStart(history.LastRun(paths), now, warnings);
        var plans = paths.Select(p => (Live: p, Segments: reader.Plan(p, windowStart - options.Context, warnings))).ToList();
        var inputs = plans.SelectMany(p => p.Segments).Select(s => s.Source).ToList();

        var baselines = new BaselineRepository(store);
        var alertStore = new AlertRepository(store);
        var queue = new HeldBackAlerts(store);
        var selection = new RunSelection(output, alertStore, windowStart, now, options);
        selection.Begin(queue.All());
        var failures = new RuleFailures();
        var pipeline = config.Pipeline(baselines.Snapshot()).SkippingRuleFailures(failures.Add, ExtraRules)
            .KeepingAccesses(a => options.Learn && a.Alert is null && a.Timestamp <= now);
        var scan = pipeline.Run(inputs, selection, cancellation); // the raised alerts are written out (and flushed) when it returns
        failures.Report(warnings);
        foreach (var (input, read) in inputs.Zip(scan.Inputs))
        {
            if (read.Unreadable is { } why)
                warnings.Add($"{input.Name}: {why}");
        }

        var (raised, held, dropped) = (selection.Raised, selection.Held, selection.Dropped);
        if (held.Count > 0)
            warnings.Add($"{held.Count} alert(s) more than --max-alerts {options.MaxAlerts}: held back in the state; the next run raises them first");
        if (dropped > 0)
            warnings.Add($"{dropped} alert(s) dropped: more than {options.MaxHeldBack} were held back (raise --max-alerts, or run more often)");

        using (var tx = store.Begin())
        {
            foreach (var a in raised)
                alertStore.TryAdd(a, now);
            queue.Replace(held, now);
            SaveCheckpoints(reader, plans, scan, now);
            history.Completed(paths, now);
            tx.Commit();
        }

        new SessionRepository(store).Add(scan.Sessions);
        if (options.Learn)
            baselines.Learn(scan.Accesses);

        return new RunReport(now, raised, selection.AlreadyRaised, held.Count, scan.SilencedByBaseline, warnings, [.. scan.Detection.LearningHosts], scan)
        {
            Dropped = dropped,
        };
    }

    /// <summary>
    /// The start of the window this run raises alerts in: the look-back, or, for a run later than that after the
    /// last one, the last run's time (at most <see cref="RunOptions.MaxCatchUp"/> back), with a warning.
    /// </summary>
    private DateTimeOffset WindowStart(DateTimeOffset? lastRun, DateTimeOffset now, List<string> warnings)
    {
        var start = now - options.Lookback;
        if (lastRun is not { } last || last >= start || last > now)
            return start;
        var late = now - last;
        var earliest = now - options.MaxCatchUp;
        if (last < earliest)
        {
            warnings.Add($"late run: the last one completed {Ago(late)} ago ({last:yyyy-MM-dd HH:mm:ss}Z); catching up over the last {Ago(options.MaxCatchUp)} only: "
                + $"alerts from {last:yyyy-MM-dd HH:mm:ss}Z to {earliest:yyyy-MM-dd HH:mm:ss}Z are not raised (scan those logs to see them)");
            return earliest;
        }
        warnings.Add($"late run: the last one completed {Ago(late)} ago ({last:yyyy-MM-dd HH:mm:ss}Z), more than the {Ago(options.Lookback)} look-back; catching up from there");
        return last;
    }

    private static string Ago(TimeSpan t) =>
        t.TotalHours >= 2 ? $"{t.TotalHours:0.#} h" : $"{t.TotalMinutes:0} min";

    /// <summary>Each live log's checkpoint: the end of the last file read for it, named by that file's identity.</summary>
    private void SaveCheckpoints(IncrementalReader reader, List<(string Live, List<Segment> Segments)> plans, Pipeline.ScanResult scan, DateTimeOffset now)
    {
        var index = 0;
        foreach (var (live, segments) in plans)
        {
            index += segments.Count;
            if (segments.Count == 0 || index - 1 >= scan.Inputs.Count)
                continue;
            var last = segments[^1];
            var consumed = scan.Inputs[index - 1];
            var record = consumed.NewestMilliseconds > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(consumed.NewestMilliseconds) : now;
            var line = consumed.LastLine > 0 ? consumed.LastLine : last.Source.FirstLineNumber - 1;
            reader.Save(new Checkpoint(live, last.Inode, last.Source.Offset + consumed.BytesToLastNewline, line, record) { Fingerprint = last.Fingerprint },
                now, options.Lookback + options.Context);
        }
    }

    /// <summary>Rule failures of a run: each record skipped by the failing rule, the first few named with file and line.</summary>
    private sealed class RuleFailures
    {
        private const int Named = 10;
        private readonly List<string> _first = [];
        private int _count;

        public void Add(Events.EvidenceRef where, Exception e)
        {
            if (_count++ < Named)
                _first.Add($"internal error at {where.File}:{where.Line} ({e.GetType().Name}: {e.Message}); the record was skipped by that rule and the run went on (please report it with that line)");
        }

        public void Report(List<string> warnings)
        {
            warnings.AddRange(_first);
            if (_count > Named)
                warnings.Add($"{_count - Named} more record(s) skipped by a failing rule");
        }
    }
}
