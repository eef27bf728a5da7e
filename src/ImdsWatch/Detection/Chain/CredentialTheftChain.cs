using ImdsWatch.Alerts;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Detection.Web;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection.Chain;

/// <summary>
/// The attack confirmed: a role's credentials fetched on a host (audit, ECS, syslog) or through a web server
/// (SSRF), then that role's instance session used away from the instance (CloudTrail), within a day. One
/// critical incident with every piece of evidence, in order.
/// </summary>
public static class CredentialTheftChain
{
    public const string AlertType = "CredentialTheftChain";
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public static List<Alert> Correlate(IReadOnlyList<Alert> alerts)
    {
        var incidents = new List<Alert>();
        var fetches = alerts.Where(a => a.Access == AccessClass.Credentials && a.Layers.Any(l => l is "process" or "network" or "syslog" or "web") && a.AlertType != CloudTrailRules.Exfiltration).ToList();
        foreach (var use in alerts.Where(a => a.AlertType == CloudTrailRules.Exfiltration && a.Cloud?.RoleName is not null))
        {
            var role = use.Cloud!.RoleName!;
            var before = fetches.Where(f => f.Timestamp <= use.Timestamp + ClockSkew && use.Timestamp - f.Timestamp <= Window)
                .Where(f => RoleOf(f) is not { } r ? f.AlertType == SsrfRule.AlertType : string.Equals(r, role, StringComparison.Ordinal))
                .OrderBy(f => f.Timestamp).ToList();
            var named = before.Where(f => RoleOf(f) is not null).ToList();
            if (named.Count == 0)
                continue; // nothing on the host or the web side names this role: no chain to claim
            var all = before.Append(use).ToList();
            var hosts = named.Select(f => f.Host).Where(h => h is not null).Distinct().ToList();
            var steps = all.Select(a => $"{a.Timestamp:yyyy-MM-dd HH:mm:ss} {a.AlertType}: {a.Summary}").ToList();
            incidents.Add(new Alert
            {
                Id = MetadataAccessDetector.AlertId(role, 0, (ulong)use.Timestamp.ToUnixTimeMilliseconds(), AlertType),
                Timestamp = all[0].Timestamp,
                RuleId = "imds.chain.credential-theft",
                RuleName = "Instance credentials fetched, then used away from the instance",
                AlertType = AlertType,
                Access = AccessClass.Credentials,
                Severity = Severity.Critical,
                RiskScore = 100,
                RiskReasons = ["+100 the theft is confirmed: the credentials fetched were used from elsewhere", .. steps.Select(s => "step: " + s)],
                Host = hosts.Count > 0 ? hosts[0] : null,
                Process = named.FirstOrDefault(f => !f.Process.IsNone)?.Process ?? Events.ProcessSnapshot.None,
                Url = named[0].Url,
                CloudProvider = "aws",
                Layers = [.. all.SelectMany(a => a.Layers).Distinct()],
                Evidence = [.. all.SelectMany(a => a.Evidence)],
                Tags = ["chain", .. all.Select(a => "includes:" + a.Id)],
                Summary = $"role {role}: credentials fetched ({string.Join(", ", named.Select(f => $"{f.AlertType} on {f.Host ?? f.Source ?? "?"}"))}), then used from {use.Cloud.SourceIp} ({use.Cloud.EventNames.Count} kind(s) of call)",
                Cloud = use.Cloud,
                Source = named.FirstOrDefault(f => f.Source is not null)?.Source,
            });
        }
        return incidents;
    }

    private static string? RoleOf(Alert a) => Investigation.RoleOf(a.Url);
}
