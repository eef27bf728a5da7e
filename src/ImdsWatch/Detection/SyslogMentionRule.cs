using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;
using ImdsWatch.Sources.Syslog;

namespace ImdsWatch.Detection;

/// <summary>
/// The seed's syslog layer: a log message naming a metadata endpoint (MetadataAPINetwork, layer "syslog"). Agents
/// are recognised by the program that logged the line (the syslog tag), not by a word anywhere in it.
/// </summary>
public sealed class SyslogMentionRule(DetectionRules rules)
{
    private readonly HashSet<string> _agentPrograms = AgentPrograms(rules.Agents);
    /// <summary>Per (host, program): what one alert needs, never every line — memory stays flat however many there are.</summary>
    private readonly Dictionary<(string Host, string Program), Group> _groups = [];

    /// <summary>Lines of evidence an alert lists, and characters of the first message its summary quotes.</summary>
    private const int MaxEvidence = 50;
    private const int MaxQuoted = 1024;

    public int AllowedByAgent { get; private set; }

    public void Observe(SyslogLine line, EvidenceRef evidence)
    {
        var reference = rules.Finder.Find(line.Message).OrderByDescending(r => r.Class).FirstOrDefault();
        if (reference is null)
            return;
        if (_agentPrograms.Contains(line.Program))
        {
            AllowedByAgent++;
            return;
        }
        if (!_groups.TryGetValue((line.Host, line.Program), out var group))
            _groups.Add((line.Host, line.Program), group = new Group(line, reference));
        group.Count++;
        if (reference.Class > group.Best.Class)
            group.Best = reference;
        if (group.Evidence.Count < MaxEvidence)
            group.Evidence.Add(new EvidenceItem("syslog", evidence.File, evidence.Line, evidence.RecordId, Clip(line.Message, 200)));
    }

    public List<Alert> Complete() =>
        _groups.Values.Select(g =>
        {
            var first = g.First;
            var best = g.Best;
            var risk = best.Class switch { AccessClass.Credentials => 51, AccessClass.Token or AccessClass.UserData => 41, _ => 31 };
            return new Alert
            {
                Id = MetadataAccessDetector.AlertId(first.Host, first.Pid ?? 0, (ulong)first.Timestamp.ToUnixTimeMilliseconds(), "imds.syslog|" + first.Program),
                Timestamp = first.Timestamp,
                RuleId = "imds.syslog.mention",
                RuleName = "Log message naming the metadata service",
                AlertType = AlertTypes.MetadataAPINetwork,
                Access = best.Class,
                Severity = RiskModel.SeverityOf(risk),
                RiskScore = risk,
                RiskReasons = [$"+{risk} a program logged a {best.Class.ToWire()} request to the metadata service"],
                Host = first.Host,
                Process = new ProcessSnapshot { Pid = first.Pid ?? -1, Name = first.Program },
                Url = best.Url,
                CloudProvider = best.Provider,
                EndpointId = best.Endpoint?.Id,
                Layers = ["syslog"],
                Evidence = g.Evidence,
                Tags = ["syslog-mention"],
                Summary = $"{first.Program} on {first.Host} logged {g.Count} message(s) naming the metadata service: {first.Message}",
            };
        }).ToList();

    private static string Clip(string message, int length) => message.Length > length ? message[..length] : message;

    /// <summary>The first line of a group (its message clipped), the best reference, the count and the first evidence.</summary>
    private sealed class Group(SyslogLine first, EndpointReference best)
    {
        public SyslogLine First { get; } = first with { Message = first.Message.Length > MaxQuoted ? first.Message[..MaxQuoted] + "…" : first.Message };
        public EndpointReference Best { get; set; } = best;
        public int Count { get; set; }
        public List<EvidenceItem> Evidence { get; } = [];
    }

    private static HashSet<string> AgentPrograms(AgentAllowList agents)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "WALinuxAgent", "google-guest-agent", "amazon-ssm-agent", "cloud-init", "google_metadata_script_runner", "GCEGuestAgent" };
        foreach (var rule in agents.Rules)
        {
            names.Add(rule.Name);
            foreach (var path in rule.Executables.Concat(rule.Scripts))
            {
                var name = Path.GetFileName(path);
                if (name.AsSpan().IndexOfAny("*?") < 0)
                    names.Add(name);
            }
        }
        return names;
    }
}
