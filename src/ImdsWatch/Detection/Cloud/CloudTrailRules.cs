using System.Net;
using System.Net.Sockets;
using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection.Cloud;

/// <summary>
/// The cloud layer. InstanceCredentialExfiltration: an EC2 instance role's session (session name i-…) used from
/// somewhere that is not the instance, as GuardDuty's InstanceCredentialExfiltration findings; each alert says
/// what it relied on. IMDSv1CredentialDelivery: credentials that came from IMDSv1 (hardening). And the seed's
/// MetadataCredentialsUsed condition, as written.
/// </summary>
public sealed class CloudTrailRules(CloudTrailOptions options)
{
    public const AlertType Exfiltration = AlertType.InstanceCredentialExfiltration;
    public const AlertType ImdsV1Delivery = AlertType.IMDSv1CredentialDelivery;
    public const AlertType MetadataCredentialsUsed = AlertType.MetadataCredentialsUsed;

    /// <summary>Base points of each cloud alert (risk.yaml).</summary>
    private static int ExfiltrationRisk => RiskModel.Default["cloud.exfiltration"].Points;
    private static int ImdsV1Risk => RiskModel.Default["cloud.imdsv1-delivery"].Points;
    private static int SeedRuleRisk => RiskModel.Default["cloud.seed-condition"].Points;

    /// <summary>User agents of on-instance AWS agents: their calls come from the instance itself (read by exports too).</summary>
    internal static readonly IReadOnlyList<string> OnInstanceAgents = ["amazon-ssm-agent", "ssm-agent", "CloudWatchAgent", "amazon-cloudwatch-agent", "ec2-instance-connect", "aws-ec2-instance-connect", "AmazonSSMAgent"];
    private static readonly string[] DesktopSystems = ["Darwin", "Mac OS X", "Macintosh", "Windows NT 10.0; Win64; x64) AppleWebKit"];
    private static readonly string[] Recon = ["GetCallerIdentity", "ListBuckets", "DescribeInstances", "ListRoles", "ListUsers", "GetAccountAuthorizationDetails", "ListAttachedRolePolicies", "GetRolePolicy", "ListSecrets", "DescribeDBInstances"];

    public List<Alert> Evaluate(IReadOnlyList<ApiCall> calls)
    {
        var alerts = new List<Alert>();
        alerts.AddRange(SeedRule(calls));
        var instanceCalls = calls.Where(c => c.InstanceId is not null).ToList();
        var home = HomeAddresses(instanceCalls);
        var people = PeopleAddresses(calls);

        foreach (var group in instanceCalls.GroupBy(c => (c.InstanceId!, c.RoleName, c.SourceIp)))
        {
            var (instance, role, ip) = group.Key;
            if (ip is null || !IPAddress.TryParse(ip, out var address))
                continue; // an AWS service calling on the role's behalf ("ec2.amazonaws.com")
            if (IsPrivate(address) || home.GetValueOrDefault(instance)?.Contains(address) == true || options.TrustedNetworks.Any(n => n.Contains(address)))
                continue;
            var reasons = new List<string>();
            var outsideAws = options.AwsRanges is { } ranges && !ranges.Contains(address);
            if (home.TryGetValue(instance, out var known) && known.Count > 0)
                reasons.Add($"{instance} itself calls from {string.Join(", ", known)}; these came from {ip}");
            if (outsideAws)
                reasons.Add($"{ip} is outside AWS (AWS ip-ranges.json)");
            if (people.TryGetValue(address, out var who))
                reasons.Add($"{ip} is where {string.Join(", ", who.Take(3))} call{(who.Count == 1 ? "s" : "")} from, not an instance");
            var desktop = group.Select(c => c.UserAgent).FirstOrDefault(ua => ua is not null && DesktopSystems.Any(d => ua.Contains(d, StringComparison.Ordinal)));
            if (desktop is not null)
                reasons.Add($"the client runs on a desktop system ({desktop})");
            if (reasons.Count == 0)
                continue;
            var basis = options.AwsRanges is null && known is not { Count: > 0 }
                ? "no ip-ranges.json and no address learned for the instance: relied on "
                  + string.Join(" and ", new[] { people.ContainsKey(address) ? "whose address it is" : null, desktop is not null ? "the user agent" : null }.Where(x => x is not null))
                : options.AwsRanges is not null ? "relied on AWS ip-ranges.json" + (known is { Count: > 0 } ? " and the instance's own addresses" : "") : "relied on the instance's own addresses";
            alerts.Add(ExfiltrationAlert(group.OrderBy(c => c.Timestamp).ToList(), instance, role, ip, outsideAws, reasons, basis));
        }

        foreach (var group in instanceCalls.Where(c => c.Ec2RoleDelivery == "1.0").GroupBy(c => (c.InstanceId!, c.RoleName)))
            alerts.Add(ImdsV1Alert(group.OrderBy(c => c.Timestamp).ToList(), group.Key.Item1, group.Key.RoleName));

        return alerts.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Addresses an instance is known to call from: configured, its on-instance agents, VPC endpoints.</summary>
    private Dictionary<string, HashSet<IPAddress>> HomeAddresses(List<ApiCall> instanceCalls)
    {
        var home = new Dictionary<string, HashSet<IPAddress>>(StringComparer.Ordinal);
        foreach (var (instance, addresses) in options.InstanceAddresses)
            home[instance] = [.. addresses];
        foreach (var c in instanceCalls)
        {
            var onInstance = c.VpcEndpointId is not null || (c.UserAgent is { } ua && OnInstanceAgents.Any(a => ua.Contains(a, StringComparison.OrdinalIgnoreCase)));
            if (onInstance && c.SourceIp is { } ip && IPAddress.TryParse(ip, out var address))
            {
                if (!home.TryGetValue(c.InstanceId!, out var set))
                    home[c.InstanceId!] = set = [];
                set.Add(address);
            }
        }
        return home;
    }

    /// <summary>Addresses people call from: IAM users, the root account, console and federated sessions.</summary>
    private static Dictionary<IPAddress, List<string>> PeopleAddresses(IReadOnlyList<ApiCall> calls)
    {
        var people = new Dictionary<IPAddress, List<string>>();
        foreach (var c in calls)
        {
            var person = c.IdentityType is "IAMUser" or "Root" or "SAMLUser" or "WebIdentityUser" or "IdentityCenterUser"
                || (c.IdentityType == "AssumedRole" && c.InstanceId is null && c.UserAgent?.Contains("console", StringComparison.OrdinalIgnoreCase) == true);
            if (!person || c.SourceIp is null || !IPAddress.TryParse(c.SourceIp, out var address))
                continue;
            var name = c.Arn?.Split('/')[^1] ?? c.PrincipalId ?? c.IdentityType!;
            var label = $"{c.IdentityType} {name}";
            if (!people.TryGetValue(address, out var list))
                people[address] = list = [];
            if (!list.Contains(label))
                list.Add(label);
        }
        return people;
    }

    private static Alert ExfiltrationAlert(List<ApiCall> calls, string instance, string? role, string ip, bool outsideAws, List<string> reasons, string basis)
    {
        var first = calls[0];
        var risk = ExfiltrationRisk;
        var riskReasons = new List<string> { $"+{ExfiltrationRisk} instance role credentials used away from the instance" };
        if (outsideAws)
        {
            risk += 10;
            riskReasons.Add("+10 from outside AWS");
        }
        var recon = calls.Where(c => Recon.Contains(c.EventName)).Select(c => c.EventName).Distinct().ToList();
        if (recon.Count > 0)
        {
            risk += 10;
            riskReasons.Add($"+10 reconnaissance followed: {string.Join(", ", recon)}");
        }
        if (calls.Any(c => c.EventSource == "iam.amazonaws.com" && (c.EventName.StartsWith("Create", StringComparison.Ordinal) || c.EventName.StartsWith("Attach", StringComparison.Ordinal) || c.EventName.StartsWith("Put", StringComparison.Ordinal))))
        {
            risk += 15;
            riskReasons.Add("+15 IAM changes followed");
        }
        if (calls.Any(c => c.EventName is "GetObject" or "GetSecretValue" or "GetParameter" or "GetParameters"))
        {
            risk += 5;
            riskReasons.Add("+5 data was read");
        }
        risk = Math.Min(risk, 100);
        var finding = GuardDutyName(outsideAws);
        var summary = $"credentials of {instance}{(role is null ? "" : $" (role {role})")} used from {ip}: {calls.Count} call(s), {string.Join(", ", calls.Select(c => c.EventName).Distinct().Take(6))}";
        return CloudAlert(calls.Take(200), c => $"{c.EventName} from {c.SourceIp} ({c.UserAgent})", Context(calls, instance, role, ip)) with
        {
            Id = MetadataAccessDetector.AlertId(instance, 0, 0, $"{Exfiltration}|{role}|{ip}"),
            RuleId = "imds.cloudtrail.instance-credential-exfiltration",
            RuleName = "EC2 instance credentials used away from the instance",
            AlertType = Exfiltration,
            Severity = RiskModel.Default.SeverityOf(risk),
            RiskScore = risk,
            RiskReasons = [.. riskReasons, .. reasons.Select(r => "evidence: " + r), "basis: " + basis],
            Tags = [finding],
            Summary = summary,
            Explanation = string.Join("; ", reasons) + $" ({basis})",
        };
    }

    private static string GuardDutyName(bool outsideAws) =>
        "guardduty:UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration." + (outsideAws ? "OutsideAWS" : "InsideAWS-or-unknown");

    private static Alert ImdsV1Alert(List<ApiCall> calls, string instance, string? role) =>
        CloudAlert(calls.Take(50), c => $"{c.EventName} ec2RoleDelivery {c.Ec2RoleDelivery}", Context(calls, instance, role, null)) with
        {
            Id = MetadataAccessDetector.AlertId(instance, 0, 0, $"{ImdsV1Delivery}|{role}"),
            RuleId = "imds.cloudtrail.imdsv1-delivery",
            RuleName = "Instance credentials delivered by IMDSv1",
            AlertType = ImdsV1Delivery,
            Severity = RiskModel.Default.SeverityOf(ImdsV1Risk),
            RiskScore = ImdsV1Risk,
            RiskReasons = [$"+{ImdsV1Risk} credentials came from IMDSv1 (ec2RoleDelivery 1.0): any SSRF can fetch them; require IMDSv2"],
            Tags = ["hardening"],
            Summary = $"{instance}{(role is null ? "" : $" (role {role})")} uses credentials delivered by IMDSv1 ({calls.Count} call(s)): require IMDSv2 (HttpTokens=required)",
        };

    private static IEnumerable<Alert> SeedRule(IReadOnlyList<ApiCall> calls)
    {
        foreach (var c in calls.Where(c => c.RequestRoleArn is not null && c.EventName == "GetSessionToken" && c.IdentityType == "AWSService" && c.SourceIp == "169.254.169.254"))
        {
            yield return CloudAlert([c], x => $"{x.EventName} roleArn {x.RequestRoleArn}", Context([c], c.InstanceId, c.RoleName, c.SourceIp)) with
            {
                Id = MetadataAccessDetector.AlertId(c.EventId, 0, 0, MetadataCredentialsUsed.ToString()),
                RuleId = "imds.cloudtrail.metadata-credentials-used",
                RuleName = "Credentials used from the metadata service address (seed rule)",
                AlertType = MetadataCredentialsUsed,
                Severity = RiskModel.Default.SeverityOf(SeedRuleRisk),
                RiskScore = SeedRuleRisk,
                RiskReasons = [$"+{SeedRuleRisk} GetSessionToken by an AWS service from 169.254.169.254 with a roleArn (the seed's condition)"],
                Summary = $"{c.EventName} for {c.RequestRoleArn} from 169.254.169.254",
            };
        }
    }

    /// <summary>What every CloudTrail alert shares: no host process, the calls as evidence, the cloud context.</summary>
    private static Alert CloudAlert(IEnumerable<ApiCall> evidence, Func<ApiCall, string> detail, CloudContext cloud)
    {
        var calls = evidence.ToList();
        return new Alert
        {
            Id = "", RuleId = "", RuleName = "", AlertType = AlertType.MetadataCredentialsUsed, Summary = "",
            Timestamp = calls.Min(c => c.Timestamp),
            Access = AccessClass.Credentials, Severity = Severity.Low, RiskScore = 0, Host = null,
            Process = ProcessSnapshot.None, CloudProvider = "aws", Layers = [Layer.Cloud], Cloud = cloud,
            Evidence = calls.Select(c => new EvidenceItem("api-call", c.Evidence.File, c.Evidence.Line, c.Evidence.RecordId, detail(c))).ToList(),
        };
    }

    private static CloudContext Context(IReadOnlyList<ApiCall> calls, string? instance, string? role, string? ip) => new()
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

    private static bool IsPrivate(IPAddress a)
    {
        if (a.AddressFamily == AddressFamily.InterNetworkV6)
            return a.IsIPv6SiteLocal || a.IsIPv6LinkLocal || IPAddress.IsLoopback(a) || (a.GetAddressBytes()[0] & 0xFE) == 0xFC;
        var b = a.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || b[0] == 127 || (b[0] == 100 && (b[1] & 0xC0) == 64);
    }
}
