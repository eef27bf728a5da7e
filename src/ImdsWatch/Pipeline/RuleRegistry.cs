using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Chain;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Detection.Web;

namespace ImdsWatch.Pipeline;

/// <summary>
/// Every rule the pipeline runs, in order: adding a rule is one line here. A factory returns null where the rule
/// has nothing to work with (the anomaly rules without a baseline).
/// </summary>
public static class RuleRegistry
{
    public static IReadOnlyList<RuleRegistration> All { get; } =
    [
        new("host exec/connect (MetadataAPIProcess, MetadataAPINetwork)", RuleStage.Events, c => new MetadataAccessDetector(c)),
        new("syslog mention", RuleStage.Events, c => new SyslogMentionRule(c)),
        new("web SSRF (MetadataSSRFAttempt)", RuleStage.Events, c => new SsrfRule(c)),
        new("CloudTrail (exfiltration, IMDSv1 delivery, the seed condition)", RuleStage.Events, c => new CloudTrailRule(c)),
        new("unusual user", RuleStage.Findings, c => c.Baseline is { IsEmpty: false } ? new AnomalyRules(c, users: true) : null),
        new("unusual process", RuleStage.Findings, c => c.Baseline is { IsEmpty: false } ? new AnomalyRules(c, users: false) : null),
        new("credential theft chain", RuleStage.Findings, c => new CredentialTheftChain(c)),
    ];

    public static List<IDetectionRule> Build(RuleStage stage, RuleContext context) =>
        All.Where(r => r.Stage == stage).Select(r => r.Create(context)).OfType<IDetectionRule>().ToList();
}

/// <summary>A rule's place in the pipeline and how it is built.</summary>
public sealed record RuleRegistration(string Name, RuleStage Stage, Func<RuleContext, IDetectionRule?> Create);
