using ImdsWatch.Events;

namespace ImdsWatch.Detection.Cloud;

/// <summary>The CloudTrail rules (<see cref="CloudTrailRules"/>) in the pipeline: API calls in, cloud alerts out.</summary>
public sealed class CloudTrailRule(RuleContext context) : IDetectionRule
{
    private readonly List<ApiCall> _calls = [];

    public void Observe(IObservedEvent e, IFindings findings)
    {
        if (e is ApiCall call)
            _calls.Add(call);
    }

    public void Complete(IFindings findings)
    {
        foreach (var alert in new CloudTrailRules(context.Cloud).Evaluate(_calls))
            findings.Raise(alert);
        _calls.Clear();
    }
}
