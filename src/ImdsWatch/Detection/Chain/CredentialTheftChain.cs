using ImdsWatch.Alerts;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection.Chain;

/// <summary>
/// The attack confirmed: a role's credentials fetched on a host (audit, ECS, syslog) or through a web server
/// (SSRF), then that role's instance session used away from the instance (CloudTrail), within a day. One
/// critical incident with every piece of evidence, in order. Only a fetch that names the same role joins; where
/// the fetches name hosts and one of them is the instance itself, only that host's fetches do. The incident's
/// time is the use's: that is when the theft was confirmed.
/// </summary>
public sealed class CredentialTheftChain(RuleContext context) : IDetectionRule
{
    public const AlertType Type = AlertType.CredentialTheftChain;
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    private static readonly Layer[] FetchLayers = [Layer.Process, Layer.Network, Layer.Syslog, Layer.Web];

    /// <summary>Live: at most this many fetches and uses are kept waiting (the oldest go first, counted).</summary>
    public const int LiveMaxEntries = 10_000;

    /// <summary>The names of the two tables in <see cref="DetectionStats.Evicted"/>.</summary>
    public const string FetchesEvicted = "chain-fetches";
    public const string UsesEvicted = "chain-uses";

    private readonly List<Alert> _fetches = [];
    private readonly List<Alert> _uses = [];

    public void Observe(IObservedEvent e, IFindings findings)
    {
        if (e is not Alert a)
            return;
        if (a.AlertType == CloudTrailRules.Exfiltration && a.Cloud?.RoleName is not null)
            _uses.Add(a);
        else if (context.CloudTrailInputs && a.Access == AccessClass.Credentials && a.CredentialRole is not null && a.Layers.Any(FetchLayers.Contains))
            _fetches.Add(a);
    }

    /// <summary>
    /// Live (the agent): a use is judged once no fetch that could join it can still arrive (its time plus the clock
    /// skew plus the live window have passed); a fetch is forgotten once no later use can reach back to it (a day);
    /// and both tables are capped. A batch scan judges everything at <see cref="Complete"/>.
    /// </summary>
    public void Advance(DateTimeOffset eventTime, IFindings findings)
    {
        if (!context.Live)
            return;
        var judged = _uses.Where(u => u.Timestamp + ClockSkew + context.LiveWindow < eventTime).ToList();
        foreach (var use in judged)
        {
            if (Incident(use) is { } incident)
                findings.Raise(incident);
        }
        if (judged.Count > 0)
            _uses.RemoveAll(judged.Contains);
        _fetches.RemoveAll(f => eventTime - f.Timestamp > Window + ClockSkew);
        Cap(_fetches, FetchesEvicted);
        Cap(_uses, UsesEvicted);
    }

    private void Cap(List<Alert> table, string name)
    {
        var over = table.Count - LiveMaxEntries;
        if (over <= 0)
            return;
        table.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        table.RemoveRange(0, over);
        context.Stats.Evicted[name] = context.Stats.Evicted.GetValueOrDefault(name) + over;
    }

    public void Complete(IFindings findings)
    {
        foreach (var use in _uses)
        {
            if (Incident(use) is { } incident)
                findings.Raise(incident);
        }
        _uses.Clear();
        _fetches.Clear();
    }

    private Alert? Incident(Alert use)
    {
        var role = use.Cloud!.RoleName!;
        var fetches = _fetches
            .Where(f => string.Equals(f.CredentialRole, role, StringComparison.Ordinal))
            .Where(f => f.Timestamp <= use.Timestamp + ClockSkew && use.Timestamp - f.Timestamp <= Window)
            .OrderBy(f => f.Timestamp).ThenBy(f => f.Id, StringComparer.Ordinal).ToList();
        if (fetches.Count == 0)
            return null; // nothing on the host or the web side names this role: no chain to claim
        var instance = use.Cloud.InstanceId;
        var onInstance = fetches.Where(f => f.Host is not null && string.Equals(f.Host, instance, StringComparison.OrdinalIgnoreCase)).ToList();
        if (onInstance.Count > 0)
            fetches = [.. fetches.Where(f => f.Host is null || onInstance.Contains(f))];
        var hosts = fetches.Select(f => f.Host).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var all = fetches.Append(use).ToList();
        var steps = all.Select(a => $"{a.Timestamp:yyyy-MM-dd HH:mm:ss} {a.AlertType}: {a.Summary}").ToList();
        var risk = context.Rules.Risk.Start().Add("chain.confirmed");
        foreach (var step in steps)
            risk.Note("step: " + step);
        if (hosts.Count > 0 && onInstance.Count == 0)
            risk.Note($"host not confirmed: {string.Join(", ", hosts)} fetched the role's credentials; the session belongs to {instance ?? "an instance CloudTrail does not name"}");
        return new Alert
        {
            Id = MetadataAccessDetector.AlertId(role, 0, (ulong)use.Timestamp.ToUnixTimeMilliseconds(), Type.ToString()),
            Timestamp = use.Timestamp,
            RuleId = "imds.chain.credential-theft",
            RuleName = "Instance credentials fetched, then used away from the instance",
            AlertType = Type,
            Access = AccessClass.Credentials,
            Severity = risk.Severity,
            RiskScore = risk.Score,
            RiskReasons = risk.Reasons,
            Host = hosts.Count > 0 ? hosts[0] : null,
            Process = fetches.FirstOrDefault(f => !f.Process.IsNone)?.Process ?? ProcessSnapshot.None,
            Url = fetches[0].Url,
            CloudProvider = "aws",
            CredentialRole = role,
            Layers = [.. all.SelectMany(a => a.Layers).Distinct()],
            Evidence = [.. all.SelectMany(a => a.Evidence)],
            Tags = ["chain", .. all.Select(a => "includes:" + a.Id)],
            Summary = $"role {role}: credentials fetched ({string.Join(", ", fetches.Select(f => $"{f.AlertType} on {f.Host ?? f.Source ?? "?"}"))}), then used from {use.Cloud.SourceIp} ({use.Cloud.EventNames.Count} kind(s) of call)",
            Cloud = use.Cloud,
            Source = fetches.FirstOrDefault(f => f.Source is not null)?.Source,
        };
    }
}
