using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Indicators;

namespace ImdsWatch.Anomaly;

/// <summary>
/// UnusualMetadataUser and UnusualMetadataProcess: how rare a user (a program) is among those that reached the
/// metadata service, on this host and across the fleet. Score = 0.75 × host rarity + 0.25 × fleet rarity, where
/// host rarity = 100 / (1 + times seen on this host) and fleet rarity = 100 × (1 − hosts that saw it / hosts).
/// Risk 21 (low) as the seed; raised when the access reached credentials, and again when a detection-layer
/// alert fired on the same access.
/// </summary>
public sealed class AnomalyRules(AnomalyOptions options)
{
    public const string UnusualUser = "UnusualMetadataUser";
    public const string UnusualProcess = "UnusualMetadataProcess";

    /// <summary>Hosts skipped because their baseline is younger than the learning period.</summary>
    public HashSet<string> Learning { get; } = new(StringComparer.Ordinal);

    public List<Alert> Evaluate(IEnumerable<MetadataAccess> accesses, BaselineSnapshot baseline)
    {
        var alerts = new Dictionary<string, Alert>(StringComparer.Ordinal);
        foreach (var a in accesses)
        {
            var history = baseline.History(a.Host);
            if (history < options.LearningPeriod)
            {
                Learning.Add(a.Host ?? "");
                continue;
            }
            var (uid, name) = BaselineRepository.UserSubject(a);
            var userLabel = name is null ? $"uid {uid}" : $"{name} (uid {uid})";
            Consider(alerts, a, baseline, history, BaselineEntry.User, uid, $"user {userLabel}", options.UserThreshold, UnusualUser, "imds.anomaly.user");
            Consider(alerts, a, baseline, history, BaselineEntry.Program, a.ProgramKey, $"program {a.ProgramKey}", options.ProcessThreshold, UnusualProcess, "imds.anomaly.process");
        }
        return alerts.Values.OrderBy(x => x.Timestamp).ThenBy(x => x.Id, StringComparer.Ordinal).ToList();
    }

    private void Consider(Dictionary<string, Alert> alerts, MetadataAccess a, BaselineSnapshot baseline, TimeSpan history,
        string kind, string subject, string who, int threshold, string type, string ruleId)
    {
        var (count, first, _) = baseline.OnHost(a.Host, kind, subject);
        var hosts = baseline.HostsThatSaw(kind, subject);
        var fleet = baseline.FleetSize;
        var hostRarity = 100.0 / (1 + count);
        var fleetRarity = 100.0 * (1 - (double)hosts / fleet);
        var score = (int)Math.Round(0.75 * hostRarity + 0.25 * fleetRarity);
        if (score < threshold)
            return;

        var bucket = a.Timestamp.ToUnixTimeMilliseconds() / (long)options.Bucket.TotalMilliseconds;
        var id = MetadataAccessDetector.AlertId(a.Host, 0, (ulong)bucket, $"{ruleId}|{subject}");
        if (alerts.ContainsKey(id))
            return;

        var host = a.Host ?? "this host";
        var days = history.TotalDays.ToString("0", CultureInfo.InvariantCulture);
        var onHost = count == 0
            ? $"{who} never called the metadata service on {host} in {days} days"
            : $"{who} called the metadata service {count} time(s) on {host} in {days} days (first {first:yyyy-MM-dd})";
        var explanation = $"{onHost}; {hosts} of {fleet} host(s) have ever seen it (score {score} ≥ {threshold})";

        var risk = 21;
        var reasons = new List<string> { "+21 unusual for this host and fleet" };
        if (a.Access == AccessClass.Credentials)
        {
            risk += 26;
            reasons.Add("+26 reached credentials");
        }
        if (a.Alert is not null)
        {
            risk += 26;
            reasons.Add($"+26 coincides with detection alert {a.Alert.Id} ({a.Alert.AlertType})");
        }
        alerts[id] = new Alert
        {
            Id = id,
            Timestamp = a.Timestamp,
            RuleId = ruleId,
            RuleName = type == UnusualUser ? "Unusual Linux user calling the metadata service" : "Unusual Linux process calling the metadata service",
            AlertType = type,
            Access = a.Access,
            Severity = RiskModel.SeverityOf(risk),
            RiskScore = risk,
            RiskReasons = reasons,
            Host = a.Host,
            Process = a.Process,
            Parent = a.Ancestors.Count > 0 ? a.Ancestors[0] : null,
            Ancestors = a.Ancestors,
            DestinationIp = a.Alert?.DestinationIp,
            DestinationPort = a.Alert?.DestinationPort,
            Url = a.Alert?.Url,
            CloudProvider = a.Alert?.CloudProvider,
            ProgramKey = a.ProgramKey,
            Layers = ["anomaly"],
            Evidence = a.Evidence,
            Tags = count == 0 ? ["first-seen"] : [],
            FirstSeen = count == 0,
            Summary = explanation,
            Explanation = explanation,
            AnomalyScore = score,
        };
    }
}
