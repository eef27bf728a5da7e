using ImdsWatch.Events;

namespace ImdsWatch.Detection.Cloud;

/// <summary>
/// The CloudTrail rules (<see cref="CloudTrailRules"/>: exfiltration, IMDSv1 delivery, the seed's condition) in the
/// pipeline: one call at a time, in time order, with bounded state; what the bounds let go of is counted.
/// </summary>
public sealed class CloudTrailRule(RuleContext context) : IDetectionRule
{
    private readonly CloudTrailRules _rules = new(context.Cloud);

    public void Observe(IObservedEvent e, IFindings findings)
    {
        if (e is not ApiCall call)
            return;
        foreach (var alert in _rules.Observe(call))
            findings.Raise(alert);
    }

    public void Complete(IFindings findings)
    {
        foreach (var alert in _rules.Complete())
            findings.Raise(alert);
        foreach (var (table, evicted) in _rules.Evicted)
            context.Stats.CloudEvicted[table] = context.Stats.CloudEvicted.GetValueOrDefault(table) + evicted;
        context.Stats.CloudEvidenceNotKept += _rules.EvidenceNotKept;
    }
}
