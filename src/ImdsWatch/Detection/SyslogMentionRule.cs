using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// The seed's syslog layer: a log message naming a metadata endpoint (MetadataAPINetwork, layer "syslog"). Agents
/// are recognised by the program that logged the line (the syslog tag), not by a word anywhere in it.
/// </summary>
public sealed class SyslogMentionRule(RuleContext context) : IDetectionRule
{
    private const string AgentLines = "syslog lines of agents";
    private readonly DetectionRules _rules = context.Rules;
    private readonly HashSet<string> _agentPrograms = AgentPrograms(context.Rules.Agents);
    private readonly List<(LogMessage Line, EndpointReference Reference)> _hits = [];

    public void Observe(IObservedEvent e, IFindings findings)
    {
        if (e is not LogMessage line)
            return;
        var reference = _rules.Finder.Find(line.Message).OrderByDescending(r => r.Class).FirstOrDefault();
        if (reference is null)
            return;
        if (_agentPrograms.Contains(line.Program))
        {
            context.Stats.AllowedByAgent[AgentLines] = context.Stats.AllowedByAgent.GetValueOrDefault(AgentLines) + 1;
            return;
        }
        _hits.Add((line, reference));
    }

    public void Complete(IFindings findings)
    {
        foreach (var alert in Alerts())
            findings.Raise(alert);
    }

    private IEnumerable<Alert> Alerts() =>
        _hits.GroupBy(h => (h.Line.Host, h.Line.Program)).Select(g =>
        {
            var hits = g.ToList();
            var first = hits[0];
            var best = hits.Select(h => h.Reference).OrderByDescending(r => r.Class).First();
            var risk = _rules.Risk.Start().Add(best.Class switch
            {
                AccessClass.Credentials => "syslog.credentials",
                AccessClass.Token => "syslog.token",
                AccessClass.UserData => "syslog.user-data",
                _ => "syslog.other",
            }, best.Class.ToWire());
            return new Alert
            {
                Id = MetadataAccessDetector.AlertId(first.Line.Host, first.Line.Pid ?? 0, (ulong)first.Line.Timestamp.ToUnixTimeMilliseconds(), "imds.syslog|" + first.Line.Program),
                Timestamp = first.Line.Timestamp,
                RuleId = "imds.syslog.mention",
                RuleName = "Log message naming the metadata service",
                AlertType = AlertType.MetadataAPINetwork,
                Access = best.Class,
                Severity = risk.Severity,
                RiskScore = risk.Score,
                RiskReasons = risk.Reasons,
                Host = first.Line.Host,
                Process = new ProcessSnapshot { Pid = first.Line.Pid ?? -1, Name = first.Line.Program },
                Url = best.Url,
                CloudProvider = best.Provider,
                CredentialRole = hits.Select(h => CredentialPath.RoleOf(h.Reference.Url ?? h.Reference.Path)).FirstOrDefault(r => r is not null),
                EndpointId = best.Endpoint?.Id,
                Layers = [Layer.Syslog],
                Evidence = hits.Take(50).Select(h => new EvidenceItem("syslog", h.Line.Evidence.File, h.Line.Evidence.Line, h.Line.Evidence.RecordId, h.Line.Message.Length > 200 ? h.Line.Message[..200] : h.Line.Message)).ToList(),
                Tags = ["syslog-mention"],
                Summary = $"{first.Line.Program} on {first.Line.Host} logged {hits.Count} message(s) naming the metadata service: {first.Line.Message}",
            };
        });

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
