using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;

namespace ImdsWatch.Pipeline;

/// <summary>
/// The second half of the pipeline, shared by the batch and the live one: the event rules put their final findings
/// in <see cref="First"/>; <see cref="Release"/> passes each access through the baseline stage, shows the accesses
/// and the alerts to the rules on findings (anomalies, the chain), and hands the alerts on at once. What the rules
/// on findings raise waits for <see cref="Complete"/> (or, live, for their own Advance), then leaves in time order.
/// Nothing is kept here between releases: memory does not grow with the number of alerts.
/// </summary>
internal sealed class FindingsFlow(List<IDetectionRule> findingRules, BaselineSnapshot? baseline, Action<Alert> emit)
{
    private readonly BaselineStage? _baseline = baseline is { IsEmpty: false } b ? new BaselineStage(b) : null;
    private readonly Queue _first = new();
    private readonly Queue _second = new();

    /// <summary>Where the event rules record and raise.</summary>
    public IFindings First => _first;

    /// <summary>Told of every access after the baseline stage (what a caller keeps to learn from).</summary>
    public Action<MetadataAccess>? OnAccess { get; init; }

    /// <summary>The live pipeline: each release in time order (a batch keeps the order findings became final in).</summary>
    public bool TimeOrderEachRelease { get; init; }

    /// <summary>Accesses the baseline knew, whose alerts were silenced.</summary>
    public int Silenced => _baseline?.Silenced ?? 0;

    public bool IsEmpty => _first.IsEmpty;

    /// <summary>
    /// What the event rules have made final, through the baseline stage and the rules on findings, to the outlet;
    /// with <paramref name="eventTime"/> (live) the rules on findings emit what that time makes final.
    /// </summary>
    public void Release(DateTimeOffset? eventTime = null)
    {
        if (_first.IsEmpty && eventTime is null)
            return;
        var (raised, accesses) = (_first.TakeAlerts(), _first.TakeAccesses());
        var enriched = new List<MetadataAccess>(accesses.Count);
        foreach (var access in accesses)
        {
            var a = _baseline?.Enrich(access) ?? access;
            enriched.Add(a);
            OnAccess?.Invoke(a);
        }
        var alerts = raised;
        foreach (var a in enriched)
        {
            if (a.Alert is not null)
                alerts.Add(a.Alert);
        }
        if (TimeOrderEachRelease)
            alerts = [.. alerts.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal)];
        foreach (var rule in findingRules)
        {
            foreach (var access in enriched)
                rule.Observe(access, _second);
            foreach (var alert in alerts)
                rule.Observe(alert, _second);
            if (eventTime is { } now)
                rule.Advance(now, _second);
        }
        foreach (var alert in alerts)
            emit(alert);
        EmitSecond();
    }

    /// <summary>The end: the rules on findings raise what they still hold, in time order.</summary>
    public void Complete()
    {
        Release();
        foreach (var rule in findingRules)
            rule.Complete(_second);
        EmitSecond();
    }

    private void EmitSecond()
    {
        if (_second.IsEmpty)
            return;
        foreach (var alert in _second.TakeAlerts().OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal))
            emit(alert);
    }

    /// <summary>Findings as they come, taken whole by each release.</summary>
    private sealed class Queue : IFindings
    {
        private List<Alert> _alerts = [];
        private List<MetadataAccess> _accesses = [];

        public bool IsEmpty => _alerts.Count == 0 && _accesses.Count == 0;

        public void Raise(Alert alert) => _alerts.Add(alert);

        public void Record(MetadataAccess access) => _accesses.Add(access);

        public List<Alert> TakeAlerts()
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
