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

    /// <summary>Lines of evidence an alert lists, and characters of the first message its summary quotes.</summary>
    private const int MaxEvidence = 50;
    private const int MaxQuoted = 1024;

    private readonly DetectionRules _rules = context.Rules;
    private readonly HashSet<string> _agentPrograms = AgentPrograms(context.Rules.Agents);

    /// <summary>Per (host, program): what one alert needs, never every line — memory stays flat however many there are.</summary>
    private readonly Dictionary<(string Host, string Program), Group> _groups = [];

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
        if (!_groups.TryGetValue((line.Host, line.Program), out var group))
            _groups.Add((line.Host, line.Program), group = new Group(line, reference));
        group.Count++;
        if (line.Timestamp > group.LastSeen)
            group.LastSeen = line.Timestamp;
        if (reference.Class > group.Best.Class)
            group.Best = reference;
        group.Role ??= CredentialPath.RoleOf(reference.Url ?? reference.Path);
        if (group.Evidence.Count < MaxEvidence)
            group.Evidence.Add(new EvidenceItem("syslog", line.Evidence.File, line.Evidence.Line, line.Evidence.RecordId, Clip(line.Message, 200)));
    }

    /// <summary>
    /// Live (the agent): a group is final once its program has logged no such line for the live window, and leaves
    /// then (a later line starts a new alert); a batch scan raises one alert per program at the end.
    /// </summary>
    public void Advance(DateTimeOffset eventTime, IFindings findings)
    {
        if (!context.Live || _groups.Count == 0)
            return;
        foreach (var (key, group) in _groups)
        {
            if (eventTime - group.LastSeen > context.LiveWindow)
            {
                findings.Raise(Alert(group));
                _groups.Remove(key);
            }
        }
    }

    public void Complete(IFindings findings)
    {
        foreach (var group in _groups.Values)
            findings.Raise(Alert(group));
        _groups.Clear();
    }

    private Alert Alert(Group g)
    {
        var first = g.First;
        var best = g.Best;
        var risk = _rules.Risk.Start().Add(best.Class switch
        {
            AccessClass.Credentials => "syslog.credentials",
            AccessClass.Token => "syslog.token",
            AccessClass.UserData => "syslog.user-data",
            _ => "syslog.other",
        }, best.Class.ToWire());
        return new Alert
        {
            Id = MetadataAccessDetector.AlertId(first.Host, first.Pid ?? 0, (ulong)first.Timestamp.ToUnixTimeMilliseconds(), "imds.syslog|" + first.Program),
            Timestamp = first.Timestamp,
            RuleId = "imds.syslog.mention",
            RuleName = "Log message naming the metadata service",
            AlertType = AlertType.MetadataAPINetwork,
            Access = best.Class,
            Severity = risk.Severity,
            RiskScore = risk.Score,
            RiskReasons = risk.Reasons,
            Host = first.Host,
            Process = new ProcessSnapshot { Pid = first.Pid ?? -1, Name = first.Program },
            Url = best.Url,
            CloudProvider = best.Provider,
            CredentialRole = g.Role,
            EndpointId = best.Endpoint?.Id,
            Layers = [Layer.Syslog],
            Evidence = g.Evidence,
            Tags = ["syslog-mention"],
            Summary = $"{first.Program} on {first.Host} logged {g.Count} message(s) naming the metadata service: {first.Message}",
        };
    }

    private static string Clip(string message, int length) => message.Length > length ? message[..length] : message;

    /// <summary>The first line of a group (its message clipped), the best reference, the count and the first evidence.</summary>
    private sealed class Group(LogMessage first, EndpointReference best)
    {
        public LogMessage First { get; } = first with { Message = first.Message.Length > MaxQuoted ? first.Message[..MaxQuoted] + "…" : first.Message };
        public EndpointReference Best { get; set; } = best;
        public string? Role { get; set; }
        public int Count { get; set; }
        public DateTimeOffset LastSeen { get; set; } = first.Timestamp;
        public List<EvidenceItem> Evidence { get; } = [];
    }

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
