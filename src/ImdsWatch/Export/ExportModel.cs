using System.Net;
using System.Net.Sockets;
using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Detection.Web;
using ImdsWatch.Indicators;

namespace ImdsWatch.Export;

/// <summary>
/// What every export generator reads: the engine's catalogs, flattened into the lists a rule language needs
/// (spellings, paths by class, agent executables, program names) and the engine's risk points per layer.
/// Built only from <see cref="DetectionRules"/> and the engine's own risk code, never from copies of their values.
/// </summary>
internal sealed class ExportModel
{
    public required IReadOnlyList<ExportEndpoint> Endpoints { get; init; }
    public required IReadOnlyList<PathIndicator> Paths { get; init; }
    public required IReadOnlyList<AgentRule> Agents { get; init; }
    public required ProgramCatalog Programs { get; init; }
    public required AnomalyOptions Anomaly { get; init; }
    public required IReadOnlyList<string> AgentSyslogPrograms { get; init; }

    public static ExportModel From(DetectionRules rules)
    {
        var catalog = rules.Catalog;
        var addresses = catalog.AddressEntries.ToList();
        var hostnames = catalog.HostnameEntries.ToList();
        var endpoints = catalog.Endpoints.Select(e =>
        {
            var own = addresses.Where(a => ReferenceEquals(a.Value, e)).Select(a => a.Key).ToList();
            return new ExportEndpoint(e.Id, e.Name, e.Providers,
                own.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToList(),
                own.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).ToList(),
                hostnames.Where(h => ReferenceEquals(h.Endpoint, e) && !h.UrlOnly).Select(h => h.Hostname).ToList(),
                hostnames.Where(h => ReferenceEquals(h.Endpoint, e) && h.UrlOnly).Select(h => h.Hostname).ToList());
        }).Where(e => e.IPv4.Count + e.IPv6.Count + e.Hostnames.Count + e.UrlOnlyHostnames.Count > 0).ToList();
        return new ExportModel
        {
            Endpoints = endpoints,
            Paths = catalog.Paths,
            Agents = rules.Agents.Rules,
            Programs = rules.Programs,
            Anomaly = new AnomalyOptions(),
            AgentSyslogPrograms = [.. SyslogMentionRule.AgentPrograms(rules.Agents).Order(StringComparer.Ordinal)],
        };
    }

    public IEnumerable<IPAddress> IPv4 => Endpoints.SelectMany(e => e.IPv4).Distinct();

    public IEnumerable<IPAddress> IPv6 => Endpoints.SelectMany(e => e.IPv6).Distinct();

    /// <summary>Every address a connection can reach the service on, as the kernel may record it (mapped, compatible, NAT64 too).</summary>
    public IEnumerable<IPAddress> ConnectAddresses =>
        IPv4.Concat(IPv6).Concat(IPv4.SelectMany(SpellingVariants.IPv6Carriers)).Distinct();

    /// <summary>The plain spellings: dotted quads, IPv6 text, host names, and URL-only names as the host of a URL.</summary>
    public IReadOnlyList<string> PlainSpellings =>
    [
        .. IPv4.Select(a => a.ToString()),
        .. IPv6.Select(a => a.ToString()),
        .. Endpoints.SelectMany(e => e.Hostnames),
        .. Endpoints.SelectMany(e => e.UrlOnlyHostnames).SelectMany(h => new[] { $"://{h}/", $"://{h}:" }),
    ];

    /// <summary>The spellings that evade a plain match: numeric IPv4 forms and IPv6 forms that carry an address.</summary>
    public IReadOnlyList<string> ObfuscatedSpellings =>
        [.. IPv4.SelectMany(SpellingVariants.ObfuscatedIPv4).Concat(IPv6.SelectMany(SpellingVariants.LongIPv6)).Distinct()];

    /// <summary>The path prefixes that are evidence alone (strong), of the given classes, in catalog order.</summary>
    public IReadOnlyList<PathIndicator> StrongPaths(params AccessClass[] classes) =>
        [.. Paths.Where(p => p.Strong && classes.Contains(p.Class))];

    public IReadOnlyList<string> AgentExecutables => [.. Agents.SelectMany(a => a.Executables).Distinct()];

    public IReadOnlyList<string> AgentScripts => [.. Agents.SelectMany(a => a.Scripts).Distinct()];

    /// <summary>Programs that only mention an address; a wrapper among them (ip netns exec) runs commands, so it is left out.</summary>
    public IReadOnlyList<string> MentionOnly => [.. Programs.MentionOnly.Where(p => !Programs.Wrappers.ContainsKey(p)).Order(StringComparer.Ordinal)];

    public IReadOnlyList<string> WebServers => Programs.WebServers;

    private static RiskModel Risk => RiskModel.Default;

    /// <summary>The engine's score of a host access: what was reached and by whom (the points of risk.yaml).</summary>
    public static int HostRisk(AccessClass access, ProgramRole role, bool obfuscated = false)
    {
        var score = Risk.Start().Add("host.reached." + access.ToWire());
        var roleKey = role.RiskKey();
        if (roleKey is not null)
            score.Add(roleKey);
        return score.AddIf(obfuscated, "host.obfuscated").Clamp().Score;
    }

    public static int WebRisk(AccessClass access, bool answered = false) =>
        Math.Min(100, Risk[AccessKey("web", access)].Points + (answered ? Risk["web.answered"].Points : 0));

    public static int SyslogRisk(AccessClass access) => Risk[AccessKey("syslog", access)].Points;

    public static int ExfiltrationRisk => Risk["cloud.exfiltration"].Points;

    public static int ImdsV1Risk => Risk["cloud.imdsv1-delivery"].Points;

    public static int SeedCloudRisk => Risk["cloud.seed-condition"].Points;

    public static Severity SeverityOf(int risk) => Risk.SeverityOf(risk);

    private static string AccessKey(string layer, AccessClass access) => access switch
    {
        AccessClass.Credentials => $"{layer}.credentials",
        AccessClass.Token => $"{layer}.token",
        AccessClass.UserData => $"{layer}.user-data",
        _ => $"{layer}.other",
    };

    public static string Level(int risk) => SeverityOf(risk).ToString().ToLowerInvariant();
}
