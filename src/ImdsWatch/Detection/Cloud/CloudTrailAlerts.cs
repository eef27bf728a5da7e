using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection.Cloud;

/// <summary>The CloudTrail rules' alerts: wording, risk points and evidence, from what the rules judged.</summary>
internal static class CloudTrailAlerts
{
    public static Alert Exfiltration(SessionUse use, bool outsideAws, List<string> reasons, string basis)
    {
        var risk = RiskModel.Default.Start().Add("cloud.exfiltration")
            .AddIf(outsideAws, "cloud.outside-aws")
            .AddIf(use.ReconNames.Count > 0, "cloud.reconnaissance", string.Join(", ", use.ReconNames))
            .AddIf(use.IamChanges, "cloud.iam-changes")
            .AddIf(use.DataRead, "cloud.data-read")
            .Clamp();
        foreach (var reason in reasons)
            risk.Note("evidence: " + reason);
        risk.Note("basis: " + basis);
        var (instance, role, ip) = (use.Instance, use.Role, use.Ip);
        var shown = use.Kept.Count < use.Count ? $" (the first {use.Kept.Count} as evidence)" : "";
        return Cloud(use.Kept, c => $"{c.EventName} from {c.SourceIp} ({c.UserAgent})", Context(use.Kept, instance, role, ip)) with
        {
            Id = MetadataAccessDetector.AlertId(instance, 0, 0, $"{CloudTrailRules.Exfiltration}|{role}|{ip}"),
            RuleId = "imds.cloudtrail.instance-credential-exfiltration",
            RuleName = "EC2 instance credentials used away from the instance",
            AlertType = CloudTrailRules.Exfiltration,
            Severity = risk.Severity,
            RiskScore = risk.Score,
            RiskReasons = risk.Reasons,
            Tags = ["guardduty:UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration." + (outsideAws ? "OutsideAWS" : "InsideAWS-or-unknown")],
            Summary = $"credentials of {instance}{(role is null ? "" : $" (role {role})")} used from {ip}: {use.Count} call(s){shown}, {string.Join(", ", use.Names)}",
            Explanation = string.Join("; ", reasons) + $" ({basis})",
        };
    }

    public static Alert ImdsV1(ImdsV1Use use, string ownSessions)
    {
        var (instance, role) = (use.Instance, use.Role);
        var keys = use.Keys.Count == 0 ? "" : $" (access key{(use.Keys.Count == 1 ? "" : "s")} {string.Join(", ", use.Keys)})";
        var from = use.Addresses.Count == 0 ? "" : $" from {string.Join(", ", use.Addresses)}";
        return Cloud(use.Kept, c => $"{c.EventName} with {c.AccessKeyId} from {c.SourceIp}: ec2RoleDelivery {c.Ec2RoleDelivery}", Context(use.Kept, instance, role, null)) with
        {
            Id = MetadataAccessDetector.AlertId(instance, 0, 0, $"{CloudTrailRules.ImdsV1Delivery}|{role}"),
            RuleId = "imds.cloudtrail.imdsv1-delivery",
            RuleName = "Instance credentials delivered by IMDSv1",
            AlertType = CloudTrailRules.ImdsV1Delivery,
            Severity = V1Risk(ownSessions).Severity,
            RiskScore = V1Risk(ownSessions).Score,
            RiskReasons = V1Risk(ownSessions).Reasons,
            Tags = ["hardening"],
            Summary = $"{use.Count} call(s) with credentials of {instance}{(role is null ? "" : $" (role {role})")} delivered through IMDSv1{keys}{from}; "
                + $"{ownSessions}: require IMDSv2 (HttpTokens=required)",
        };
    }

    public static Alert Seed(ApiCall c) =>
        Cloud([c], x => $"{x.EventName} roleArn {x.RequestRoleArn}", Context([c], c.InstanceId, c.RoleName, c.SourceIp)) with
        {
            Id = MetadataAccessDetector.AlertId(c.EventId, 0, 0, CloudTrailRules.MetadataCredentialsUsed.ToString()),
            RuleId = "imds.cloudtrail.metadata-credentials-used",
            RuleName = "Credentials used from the metadata service address (seed rule)",
            AlertType = CloudTrailRules.MetadataCredentialsUsed,
            Severity = SeedRisk.Severity,
            RiskScore = SeedRisk.Score,
            RiskReasons = SeedRisk.Reasons,
            Summary = $"{c.EventName} for {c.RequestRoleArn} from 169.254.169.254",
        };

    private static RiskScore V1Risk(string ownSessions) =>
        RiskModel.Default.Start().Add("cloud.imdsv1-delivery").Note("evidence: " + ownSessions);

    private static RiskScore SeedRisk => RiskModel.Default.Start().Add("cloud.seed-condition");

    /// <summary>What every CloudTrail alert shares: no host process, the calls as evidence, the cloud context.</summary>
    private static Alert Cloud(IReadOnlyList<ApiCall> calls, Func<ApiCall, string> detail, CloudContext cloud) => new()
    {
        Id = "",
        RuleId = "",
        RuleName = "",
        AlertType = AlertType.MetadataCredentialsUsed,
        Summary = "",
        Timestamp = calls.Min(c => c.Timestamp),
        Access = AccessClass.Credentials,
        Severity = Severity.Low,
        RiskScore = 0,
        Host = null,
        Process = ProcessSnapshot.None,
        CloudProvider = "aws",
        Layers = [Layer.Cloud],
        Cloud = cloud,
        Evidence = calls.Select(c => new EvidenceItem("api-call", c.Evidence.File, c.Evidence.Line, c.Evidence.RecordId, detail(c))).ToList(),
    };

    private static CloudContext Context(List<ApiCall> calls, string? instance, string? role, string? ip) => new()
    {
        AccountId = calls[0].AccountId,
        Region = calls[0].Region,
        InstanceId = instance,
        RoleName = role,
        PrincipalArn = calls[0].Arn,
        AccessKeyId = calls[0].AccessKeyId,
        SourceIp = ip,
        UserAgent = calls[0].UserAgent,
        Delivery = calls[0].Ec2RoleDelivery,
        EventIds = calls.Select(c => c.EventId).ToList(),
        EventNames = calls.Select(c => c.EventName).Distinct().ToList(),
    };
}
