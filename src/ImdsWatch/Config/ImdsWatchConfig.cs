using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Indicators;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace ImdsWatch.Config;

/// <summary>
/// The user's YAML configuration: extra agents, indicators and program roles, the host name for logs
/// without node=, and the lowest severity to report. Everything is optional.
/// </summary>
public sealed class ImdsWatchConfig
{
    public string? Host { get; set; }
    public string MinSeverity { get; set; } = "low";
    public AgentsSection Agents { get; set; } = new();
    public IndicatorsSection? Indicators { get; set; }
    public ProgramsSection Programs { get; set; } = new();
    public AnomalySection Anomaly { get; set; } = new();
    [YamlMember(Alias = "cloudtrail")]
    public CloudTrailSection CloudTrail { get; set; } = new();
    public List<SinkEntry> Sinks { get; set; } = [];
    public AgentSection Agent { get; set; } = new();

    /// <summary>CloudTrail options from the config, with --aws-ip-ranges taking precedence over the config's file.</summary>
    public Detection.Cloud.CloudTrailOptions CloudTrailOptions(string? awsIpRanges = null)
    {
        var rangesPath = awsIpRanges ?? CloudTrail.AwsIpRanges;
        return new Detection.Cloud.CloudTrailOptions
        {
            AwsRanges = rangesPath is null ? null : Detection.Cloud.AwsIpRanges.Load(rangesPath),
            TrustedNetworks = TrustedNetworks(),
            InstanceAddresses = InstanceAddresses(),
        };
    }

    private List<System.Net.IPNetwork> TrustedNetworks()
    {
        var trusted = new List<System.Net.IPNetwork>();
        foreach (var cidr in CloudTrail.TrustedCidrs)
        {
            if (!System.Net.IPNetwork.TryParse(cidr, out var network))
                throw new InvalidDataException($"cloudtrail.trusted_cidrs: '{cidr}' is not a CIDR block (e.g. 203.0.113.0/24)");
            trusted.Add(network);
        }
        return trusted;
    }

    private Dictionary<string, IReadOnlyList<System.Net.IPAddress>> InstanceAddresses()
    {
        var instances = new Dictionary<string, IReadOnlyList<System.Net.IPAddress>>(StringComparer.Ordinal);
        foreach (var (instance, addresses) in CloudTrail.InstanceAddresses)
        {
            instances[instance] = addresses.Select(a => System.Net.IPAddress.TryParse(a, out var ip) ? ip
                : throw new InvalidDataException($"cloudtrail.instance_addresses.{instance}: '{a}' is not an IP address")).ToList();
        }
        return instances;
    }

    public Anomaly.AnomalyOptions AnomalyOptions() => new()
    {
        UserThreshold = Anomaly.UserThreshold,
        ProcessThreshold = Anomaly.ProcessThreshold,
        LearningPeriod = TimeSpan.FromDays(Anomaly.LearningDays),
    };

    public Severity MinimumSeverity => EffectiveConfig.ParseSeverity(MinSeverity, "min_severity");

    public static ImdsWatchConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read the configuration: {e.Message}", e);
        }
        ConfigSchema.Check(path, text);
        ImdsWatchConfig config;
        try
        {
            config = (YamlDocuments.Deserializer().Deserialize<ImdsWatchConfig>(text) ?? new ImdsWatchConfig()).WithoutNulls();
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}:{e.Start.Line}: {e.InnerException?.Message ?? e.Message}", e);
        }
        catch (InvalidCastException e)
        {
            // A document that is a scalar or a list where a mapping is expected (found by fuzzing).
            throw new InvalidDataException($"{path}: not a configuration (a YAML mapping of sections): {e.Message}", e);
        }
        config.PlaceSinks(path, text);
        try
        {
            _ = config.MinimumSeverity;
            _ = config.TrustedNetworks();
            _ = config.InstanceAddresses();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        return config;
    }

    /// <summary>
    /// Each <c>sinks:</c> entry learns where it is written (file and line of the entry and of each of its keys), so
    /// that a mistake the sink settings find later is reported at its line, as the schema's are.
    /// </summary>
    private void PlaceSinks(string path, string text)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(text)); // already parsed once by the schema check: it loads
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlDotNet.RepresentationModel.YamlMappingNode root
            || !root.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode("sinks"), out var list)
            || list is not YamlDotNet.RepresentationModel.YamlSequenceNode items)
            return;
        for (var i = 0; i < items.Children.Count && i < Sinks.Count; i++)
        {
            var entry = Sinks[i];
            entry.File = path;
            entry.Lines[""] = items.Children[i].Start.Line;
            if (items.Children[i] is not YamlDotNet.RepresentationModel.YamlMappingNode keys)
                continue;
            foreach (var (key, value) in keys.Children)
            {
                if (key is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } name })
                    entry.Lines[name] = value.Start.Line;
            }
        }
    }

    /// <summary>
    /// An empty section or list (<c>programs:</c> with nothing after it) reads as null: each becomes empty, as if
    /// left out, so that nothing later meets a null (found by fuzzing the loader).
    /// </summary>
    private ImdsWatchConfig WithoutNulls()
    {
        MinSeverity ??= "low";
        Agents ??= new();
        Agents.Add = [.. (Agents.Add ?? []).Where(a => a is not null)];
        foreach (var agent in Agents.Add)
        {
            agent.Name ??= "";
            agent.Executables = [.. (agent.Executables ?? []).Where(x => x is not null)];
            agent.Scripts = [.. (agent.Scripts ?? []).Where(x => x is not null)];
        }
        if (Indicators is not null)
        {
            Indicators.Endpoints = [.. (Indicators.Endpoints ?? []).Where(x => x is not null)];
            Indicators.Paths = [.. (Indicators.Paths ?? []).Where(x => x is not null)];
            Indicators.Headers = [.. (Indicators.Headers ?? []).Where(x => x is not null)];
        }
        Programs ??= new();
        Programs.MentionOnly = [.. (Programs.MentionOnly ?? []).Where(x => x is not null)];
        Programs.FetchTools = [.. (Programs.FetchTools ?? []).Where(x => x is not null)];
        Programs.WebServers = [.. (Programs.WebServers ?? []).Where(x => x is not null)];
        Anomaly ??= new();
        CloudTrail ??= new();
        CloudTrail.TrustedCidrs = [.. (CloudTrail.TrustedCidrs ?? []).Where(x => x is not null)];
        CloudTrail.InstanceAddresses = (CloudTrail.InstanceAddresses ?? []).ToDictionary(kv => kv.Key, kv => (kv.Value ?? []).Where(x => x is not null).ToList(), StringComparer.Ordinal);
        return this;
    }

    public DetectionRules BuildRules()
    {
        var catalog = IndicatorCatalog.Default;
        if (Indicators is not null)
        {
            var yaml = YamlDocuments.Serializer().Serialize(Indicators);
            catalog = IndicatorCatalog.Load(yaml, extend: catalog);
        }
        var programs = ProgramCatalog.Default;
        if (Programs.MentionOnly.Count > 0 || Programs.FetchTools.Count > 0 || Programs.WebServers.Count > 0)
        {
            programs = new ProgramCatalog
            {
                FetchTools = programs.FetchTools.Concat(Programs.FetchTools).ToHashSet(StringComparer.Ordinal),
                Shells = programs.Shells,
                Interpreters = programs.Interpreters,
                NetworkCodeWords = programs.NetworkCodeWords,
                WebServers = [.. programs.WebServers, .. Programs.WebServers],
                WebServerScripts = programs.WebServerScripts,
                MentionOnly = programs.MentionOnly.Concat(Programs.MentionOnly).ToHashSet(StringComparer.Ordinal),
                MentionOptions = programs.MentionOptions,
                Wrappers = programs.Wrappers,
            };
        }
        var agents = AgentAllowList.Default.With(
            Agents.Add.Select(a => new AgentRule(a.Name, a.Executables, a.Scripts, a.Descendants)), Agents.ReplaceDefaults);
        return new DetectionRules(catalog, programs, agents);
    }

    public sealed class AgentsSection
    {
        public bool ReplaceDefaults { get; set; }
        public List<AgentEntry> Add { get; set; } = [];
    }

    public sealed class AgentEntry
    {
        public string Name { get; set; } = "";
        public List<string> Executables { get; set; } = [];
        public List<string> Scripts { get; set; } = [];
        public bool Descendants { get; set; }
    }

    /// <summary>Extra indicators, in the schema of the built-in catalog (Indicators/catalog.yaml).</summary>
    public sealed class IndicatorsSection
    {
        public List<IndicatorCatalog.EndpointDoc> Endpoints { get; set; } = [];
        public List<IndicatorCatalog.PathDoc> Paths { get; set; } = [];
        public List<IndicatorCatalog.HeaderDoc> Headers { get; set; } = [];
    }

    public sealed class CloudTrailSection
    {
        public string? AwsIpRanges { get; set; }
        public List<string> TrustedCidrs { get; set; } = [];
        public Dictionary<string, List<string>> InstanceAddresses { get; set; } = [];
    }

    public sealed class AnomalySection
    {
        public int UserThreshold { get; set; } = 75;
        public int ProcessThreshold { get; set; } = 50;
        public double LearningDays { get; set; } = 7;
    }

    /// <summary>Where the agent delivers alerts (a <c>sinks:</c> entry); see <see cref="Sinks.SinkSettings"/>.</summary>
    public sealed class SinkEntry
    {
        public string Type { get; set; } = "";
        public string? Name { get; set; }
        public string? Url { get; set; }
        public string? Path { get; set; }
        public string? MinSeverity { get; set; }
        public Dictionary<string, string> Headers { get; set; } = [];
        public string? Token { get; set; }
        public string? Index { get; set; }
        public string? Sourcetype { get; set; }
        public int BatchSize { get; set; } = 500;
        public double BatchMaxMb { get; set; } = 1;
        public double LingerMs { get; set; } = 100;
        public string? Format { get; set; }
        public double TimeoutSeconds { get; set; } = 10;
        public int Retries { get; set; } = 3;
        public bool InsecureSkipVerify { get; set; }
        public string? CaFile { get; set; }
        public double MaxFileMb { get; set; } = 100;
        public int MaxFiles { get; set; } = 5;
        public double SpoolMaxMb { get; set; } = 256;

        /// <summary>The configuration file the entry is in (null: built in code).</summary>
        internal string? File { get; set; }

        /// <summary>The line of the entry ("") and of each key it sets (as written, e.g. "batch_size").</summary>
        internal Dictionary<string, long> Lines { get; } = new(StringComparer.Ordinal);

        /// <summary>"FILE:LINE: " of <paramref name="key"/> (else of the entry), or nothing when not from a file.</summary>
        internal string Place(string key = "") =>
            File is null ? "" : Lines.TryGetValue(key, out var line) || Lines.TryGetValue("", out line) ? $"{File}:{line}: " : $"{File}: ";
    }

    /// <summary>The long-running agent: its detection window, state, input queue and stats cadence.</summary>
    public sealed class AgentSection
    {
        public double WindowSeconds { get; set; } = 2;
        public string? StateDir { get; set; }
        public int QueueCapacity { get; set; } = 65536;
        public double StatsIntervalMinutes { get; set; } = 5;
        public List<string> Follow { get; set; } = [];
    }

    public sealed class ProgramsSection
    {
        public List<string> MentionOnly { get; set; } = [];
        public List<string> FetchTools { get; set; } = [];
        public List<string> WebServers { get; set; } = [];
    }
}
