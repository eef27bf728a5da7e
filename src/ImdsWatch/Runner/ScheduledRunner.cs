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
/// most <see cref="RunOptions.MaxAlerts"/>. An alert goes to the output before it is stored as raised: a crash
/// in between prints it again next run, never loses it.
/// </summary>
public sealed class ScheduledRunner(StateStore store, EffectiveConfig config, RunOptions options)
{
    public RunReport RunOnce(IReadOnlyList<string> paths, DateTimeOffset now, IAlertSink output, CancellationToken cancellation = default)
    {
        var warnings = new List<string>();
        var reader = new IncrementalReader(store);
        var windowStart = now - options.Lookback;
        var segments = paths.SelectMany(p => reader.Plan(p, windowStart - options.Context, warnings).Select(s => (Live: p, Source: s))).ToList();

        var baselines = new BaselineRepository(store);
        var baseline = baselines.Snapshot();
        var found = new CollectingSink();
        var scan = config.Pipeline(baseline).Run(segments.Select(s => s.Source).ToList(), found, cancellation);

        var alertStore = new AlertRepository(store);
        var candidates = found.Alerts
            .Where(a => a.Timestamp >= windowStart && a.Timestamp <= now)
            .OrderBy(a => a.Timestamp).ThenByDescending(a => a.RiskScore).ThenBy(a => a.Id, StringComparer.Ordinal)
            .ToList();
        var fresh = candidates.Where(a => !alertStore.Exists(a.Id)).ToList();
        var raised = fresh.Take(options.MaxAlerts).ToList();
        foreach (var a in raised)
            output.Emit(a);
        output.Complete();
        foreach (var a in raised)
            alertStore.TryAdd(a, now);
        var heldBack = fresh.Count - raised.Count;
        if (heldBack > 0)
            warnings.Add($"{heldBack} more alert(s) than --max-alerts {options.MaxAlerts}: held back; the next run raises them while they are in its look-back");

        new SessionRepository(store).Add(scan.Sessions);
        if (options.Learn)
            baselines.Learn(scan.Accesses.Where(a => a.Alert is null && a.Timestamp <= now));

        // Checkpoint each live log where this run stopped: the segment read last for it is the live file.
        for (var i = 0; i < segments.Count; i++)
        {
            var (live, source) = segments[i];
            if (source.Path != live || i >= scan.Inputs.Count)
                continue;
            var consumed = scan.Inputs[i];
            var record = consumed.NewestMilliseconds > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(consumed.NewestMilliseconds) : now;
            reader.Save(new Checkpoint(live, FileIdentity.Inode(live), source.Offset + consumed.BytesToLastNewline, consumed.LastLine, record),
                now, options.Lookback + options.Context);
        }

        return new RunReport(now, raised, candidates.Count - fresh.Count, heldBack, scan.SilencedByBaseline, warnings, [.. scan.Detection.LearningHosts], scan);
    }
}
