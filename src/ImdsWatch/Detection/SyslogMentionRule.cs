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
    private readonly List<(SyslogLine Line, EvidenceRef Evidence, EndpointReference Reference)> _hits = [];

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
        _hits.Add((line, evidence, reference));
    }

    /// <summary>The risk of a logged request by what it asked for (read by exports too).</summary>
    internal static int BaseRisk(AccessClass access) =>
        access switch { AccessClass.Credentials => 51, AccessClass.Token or AccessClass.UserData => 41, _ => 31 };

    public List<Alert> Complete() =>
        _hits.GroupBy(h => (h.Line.Host, h.Line.Program)).Select(g =>
        {
            var hits = g.ToList();
            var first = hits[0];
            var best = hits.Select(h => h.Reference).OrderByDescending(r => r.Class).First();
            var risk = BaseRisk(best.Class);
            return new Alert
            {
                Id = MetadataAccessDetector.AlertId(first.Line.Host, first.Line.Pid ?? 0, (ulong)first.Line.Timestamp.ToUnixTimeMilliseconds(), "imds.syslog|" + first.Line.Program),
                Timestamp = first.Line.Timestamp,
                RuleId = "imds.syslog.mention",
                RuleName = "Log message naming the metadata service",
                AlertType = AlertTypes.MetadataAPINetwork,
                Access = best.Class,
                Severity = RiskModel.SeverityOf(risk),
                RiskScore = risk,
                RiskReasons = [$"+{risk} a program logged a {best.Class.ToWire()} request to the metadata service"],
                Host = first.Line.Host,
                Process = new ProcessSnapshot { Pid = first.Line.Pid ?? -1, Name = first.Line.Program },
                Url = best.Url,
                CloudProvider = best.Provider,
                EndpointId = best.Endpoint?.Id,
                Layers = ["syslog"],
                Evidence = hits.Take(50).Select(h => new EvidenceItem("syslog", h.Evidence.File, h.Evidence.Line, h.Evidence.RecordId, h.Line.Message.Length > 200 ? h.Line.Message[..200] : h.Line.Message)).ToList(),
                Tags = ["syslog-mention"],
                Summary = $"{first.Line.Program} on {first.Line.Host} logged {hits.Count} message(s) naming the metadata service: {first.Line.Message}",
            };
        }).ToList();

    /// <summary>The syslog program tags of the allowed agents (read by exports too).</summary>
    internal static HashSet<string> AgentPrograms(AgentAllowList agents)
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
