using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Scanning;
using ImdsWatch.Store;

namespace ImdsWatch.Runner;

/// <summary>
/// One evaluation of every rule over the look-back window, as a SIEM schedules it: read each live log from the
/// checkpoint before the window, detect, apply the baseline, score anomalies, raise the alerts of the window
/// that were not raised before (stable ids make overlapping windows safe), at most <see cref="RunOptions.MaxAlerts"/>.
/// </summary>
public sealed class ScheduledRunner(StateStore store, DetectionRules rules, AnomalyOptions anomaly, RunOptions options, string? defaultHost)
{
    public RunReport RunOnce(IReadOnlyList<string> paths, DateTimeOffset now, CancellationToken cancellation = default)
    {
        var warnings = new List<string>();
        var reader = new IncrementalReader(store);
        var windowStart = now - options.Lookback;
        var segments = paths.SelectMany(p => reader.Plan(p, windowStart - options.Context, warnings).Select(s => (Live: p, Source: s))).ToList();

        var scanner = new LogScanner(rules, defaultHost);
        var scan = scanner.Scan(segments.Select(s => s.Source).ToList(), cancellation);

        var baselines = new BaselineRepository(store);
        var baseline = baselines.Snapshot();
        var detected = BaselineFilter.Apply(new DetectionResult(scan.Alerts, scan.Accesses), baseline, out var silenced);
        var anomalyRules = new AnomalyRules(anomaly);
        var anomalies = anomalyRules.Evaluate(detected.Accesses, baseline);

        var alertStore = new AlertRepository(store);
        var candidates = detected.Alerts.Concat(anomalies)
            .Where(a => a.Timestamp >= windowStart && a.Timestamp <= now)
            .OrderBy(a => a.Timestamp).ThenByDescending(a => a.RiskScore).ThenBy(a => a.Id, StringComparer.Ordinal)
            .ToList();
        var fresh = candidates.Where(a => !alertStore.Exists(a.Id)).ToList();
        var raised = fresh.Take(options.MaxAlerts).ToList();
        foreach (var a in raised)
            alertStore.TryAdd(a, now);
        var heldBack = fresh.Count - raised.Count;
        if (heldBack > 0)
            warnings.Add($"{heldBack} more alert(s) than --max-alerts {options.MaxAlerts}: held back; the next run raises them while they are in its look-back");

        new SessionRepository(store).Add(scan.Sessions);
        if (options.Learn)
            baselines.Learn(detected.Accesses.Where(a => a.Alert is null && a.Timestamp <= now));

        // Checkpoint each live log where this run stopped: the segment read last for it is the live file.
        for (var i = 0; i < segments.Count; i++)
        {
            var (live, source) = segments[i];
            if (source.Path != live || !scanner.Consumed.TryGetValue(i, out var consumed))
                continue;
            var record = consumed.NewestRecordMilliseconds > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(consumed.NewestRecordMilliseconds) : now;
            reader.Save(new Checkpoint(live, FileIdentity.Inode(live), source.Offset + consumed.Bytes, consumed.LastLine, record),
                now, options.Lookback + options.Context);
        }

        return new RunReport(now, raised, candidates.Count - fresh.Count, heldBack, silenced, warnings, anomalyRules.Learning.Order(StringComparer.Ordinal).ToList(), scan);
    }
}
