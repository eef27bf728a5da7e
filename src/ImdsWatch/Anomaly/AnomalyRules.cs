using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Anomaly;

/// <summary>
/// UnusualMetadataUser and UnusualMetadataProcess: how rare a user (a program) is among those that reached the
/// metadata service, on this host and across the fleet. Score = 0.75 × host rarity + 0.25 × fleet rarity, where
/// host rarity = 100 / (1 + times seen on this host) and fleet rarity = 100 × (1 − hosts that saw it / hosts).
/// Risk 21 (low) as the seed; raised when the access reached credentials, and again when a detection-layer
/// alert fired on the same access.
/// </summary>
public sealed class AnomalyRules : IDetectionRule
{
    public const AlertType UnusualUser = AlertType.UnusualMetadataUser;
    public const AlertType UnusualProcess = AlertType.UnusualMetadataProcess;

    private readonly RuleContext _context;
    private readonly BaselineSnapshot _baseline;
    private readonly AnomalyOptions _options;
    private readonly bool _users;
    /// <summary>One alert per (host, subject, bucket), from the bucket's earliest access (time, then the order accesses began).</summary>
    private readonly Dictionary<string, (Alert Alert, long Ordinal)> _alerts = new(StringComparer.Ordinal);

    /// <summary>Live: the ids raised, by bucket, until the bucket has passed.</summary>
    private readonly Dictionary<string, long> _raisedLive = new(StringComparer.Ordinal);

    /// <summary>The rule for users (<paramref name="users"/>) or for programs, over the context's baseline.</summary>
    public AnomalyRules(RuleContext context, bool users)
    {
        _context = context;
        _baseline = context.Baseline ?? BaselineSnapshot.Empty;
        _options = context.Anomaly;
        _users = users;
    }

    public void Observe(IObservedEvent e, IFindings findings)
    {
        if (e is not MetadataAccess a)
            return;
        var history = _baseline.History(a.Host);
        if (history < _options.LearningPeriod)
        {
            _context.Stats.LearningHosts.Add(a.Host ?? "");
            return;
        }
        if (_users)
        {
            var (uid, name) = BaselineRepository.UserSubject(a);
            var userLabel = name is null ? $"uid {uid}" : $"{name} (uid {uid})";
            Consider(a, history, BaselineEntry.User, uid, $"user {userLabel}", _options.UserThreshold, UnusualUser, "imds.anomaly.user", findings);
        }
        else
        {
            Consider(a, history, BaselineEntry.Program, a.ProgramKey, $"program {a.ProgramKey}", _options.ProcessThreshold, UnusualProcess, "imds.anomaly.process", findings);
        }
    }

    /// <summary>Live: the ids raised in buckets that have passed are forgotten (a late access of one cannot raise it again within a bucket).</summary>
    public void Advance(DateTimeOffset eventTime, IFindings findings)
    {
        if (!_context.Live || _raisedLive.Count == 0)
            return;
        var current = BucketOf(eventTime);
        foreach (var (id, bucket) in _raisedLive)
        {
            if (bucket < current - 1)
                _raisedLive.Remove(id);
        }
    }

    public void Complete(IFindings findings)
    {
        foreach (var (alert, _) in _alerts.Values)
            findings.Raise(alert);
        _alerts.Clear();
    }

    private long BucketOf(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / (long)_options.Bucket.TotalMilliseconds;

    private void Consider(MetadataAccess a, TimeSpan history, string kind, string subject, string who, int threshold, AlertType type, string ruleId, IFindings findings)
    {
        var (count, first, _) = _baseline.OnHost(a.Host, kind, subject);
        var hosts = _baseline.HostsThatSaw(kind, subject);
        var fleet = _baseline.FleetSize;
        var hostRarity = 100.0 / (1 + count);
        var fleetRarity = 100.0 * (1 - (double)hosts / fleet);
        var score = (int)Math.Round(0.75 * hostRarity + 0.25 * fleetRarity);
        if (score < threshold)
            return;
        var rarity = new Rarity(count, first, hosts, fleet, score, threshold);

        var bucket = BucketOf(a.Timestamp);
        var id = MetadataAccessDetector.AlertId(a.Host, 0, (ulong)bucket, $"{ruleId}|{subject}");
        if (_context.Live)
        {
            // The agent: the first access of a bucket raises the alert at once (accesses arrive about in time order).
            if (_raisedLive.TryAdd(id, bucket))
                findings.Raise(Build(a, history, rarity, who, type, ruleId, id));
            return;
        }
        // Accesses arrive in the order their activities ended, not in time order: the earliest one names the alert.
        if (_alerts.TryGetValue(id, out var held) && (held.Alert.Timestamp < a.Timestamp || (held.Alert.Timestamp == a.Timestamp && held.Ordinal <= a.Ordinal)))
            return;

        _alerts[id] = (Build(a, history, rarity, who, type, ruleId, id), a.Ordinal);
    }

    private Alert Build(MetadataAccess a, TimeSpan history, Rarity rarity, string who, AlertType type, string ruleId, string id)
    {
        var (count, first, hosts, fleet, score, threshold) = rarity;
        var host = a.Host ?? "this host";
        var days = history.TotalDays.ToString("0", CultureInfo.InvariantCulture);
        var onHost = count == 0
            ? $"{who} never called the metadata service on {host} in {days} days"
            : $"{who} called the metadata service {count} time(s) on {host} in {days} days (first {first:yyyy-MM-dd})";
        var explanation = $"{onHost}; {hosts} of {fleet} host(s) have ever seen it (score {score} ≥ {threshold})";

        var risk = _context.Rules.Risk.Start().Add("anomaly.unusual")
            .AddIf(a.Access == AccessClass.Credentials, "anomaly.credentials")
            .AddIf(a.Alert is not null, "anomaly.coincides", a.Alert is null ? null : $"{a.Alert.Id} ({a.Alert.AlertType})");
        return new Alert
        {
            Id = id,
            Timestamp = a.Timestamp,
            RuleId = ruleId,
            RuleName = type == UnusualUser ? "Unusual Linux user calling the metadata service" : "Unusual Linux process calling the metadata service",
            AlertType = type,
            Access = a.Access,
            Severity = risk.Severity,
            RiskScore = risk.Score,
            RiskReasons = risk.Reasons,
            Host = a.Host,
            Process = a.Process,
            Parent = a.Ancestors.Count > 0 ? a.Ancestors[0] : null,
            Ancestors = a.Ancestors,
            DestinationIp = a.Alert?.DestinationIp,
            DestinationPort = a.Alert?.DestinationPort,
            Url = a.Alert?.Url,
            CloudProvider = a.Alert?.CloudProvider,
            ProgramKey = a.ProgramKey,
            Layers = [Layer.Anomaly],
            Evidence = a.Evidence,
            Tags = count == 0 ? ["first-seen"] : [],
            FirstSeen = count == 0,
            Summary = explanation,
            Explanation = explanation,
            AnomalyScore = score,
        };
    }

    /// <summary>How rare the subject is: times seen on the host (first when), hosts that saw it of the fleet, the score and its threshold.</summary>
    private readonly record struct Rarity(long Count, DateTimeOffset? First, int Hosts, int Fleet, int Score, int Threshold);
}
