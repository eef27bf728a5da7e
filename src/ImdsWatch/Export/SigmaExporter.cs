using System.Net;
using System.Net.Sockets;
using System.Text;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Indicators;

namespace ImdsWatch.Export;

/// <summary>
/// Sigma rules (SigmaHQ layout: rules/&lt;platform&gt;/&lt;source&gt;/&lt;file&gt;.yml) for every layer Sigma can say:
/// audit EXECVE (text and the kernel's hex), audit SOCKADDR, process creation, network connection, web and
/// proxy logs, CloudTrail, and correlations where the correlation spec reaches.
/// </summary>
internal static class SigmaExporter
{
    private static readonly string[] EmptyPrefix = [""];
    private static readonly string[] MixedBaseLimit = ["Mixed-base spellings (0xa9.254.0251.0xfe) other than the listed forms are not enumerated."];

    private static readonly string[] References =
    [
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
        "https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service",
        "https://cloud.google.com/compute/docs/metadata/overview",
        "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html",
    ];

    private const string Auditd = "rules/linux/auditd";
    private const string ProcessCreation = "rules/linux/process_creation";
    private const string NetworkConnection = "rules/linux/network_connection";
    private const string Webserver = "rules/web/webserver_generic";
    private const string Proxy = "rules/web/proxy_generic";
    private const string CloudTrail = "rules/cloud/aws/cloudtrail";

    public const string ProcessRuleName = "proc_creation_lnx_imds_metadata_endpoint_cli";
    public const string ConnectionRuleName = "net_connection_lnx_imds_metadata_address";
    public const string OffInstanceRuleName = "aws_cloudtrail_imds_instance_credentials_off_instance";

    public static IReadOnlyList<ExportFile> Export(ExportModel m)
    {
        var rules = new List<SigmaRule>
        {
            ExecvePaths(m, "lnx_auditd_imds_credentials_path_execve", "Cloud Instance Metadata Credentials Path In Audited Command Line",
                AccessClass.Credentials, [AccessClass.Credentials]),
            ExecvePaths(m, "lnx_auditd_imds_token_or_user_data_path_execve", "Cloud Instance Metadata Token Or User-Data Path In Audited Command Line",
                AccessClass.Token, [AccessClass.Token, AccessClass.UserData]),
            ExecveEndpoint(m, obfuscated: false),
            ExecveEndpoint(m, obfuscated: true),
            Sockaddr(m),
            Process(m),
            Connection(m, webServers: false),
            Connection(m, webServers: true),
            Web(m, answered: false),
            Web(m, answered: true),
            ProxyRule(m),
            ImdsV1(),
            OffInstance(),
            SeedCloudRule(),
        };
        var correlations = new List<SigmaCorrelation> { OffInstanceCorrelation(), ProcessAndConnection() };
        var files = rules.Select(r => new ExportFile($"{r.Folder}/{r.FileName}.yml", SigmaYaml.Write(r)))
            .Concat(correlations.Select(c => new ExportFile($"{c.Folder}/{c.FileName}.yml", SigmaYaml.Write(c))))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        return files;
    }

    /// <summary>A text spelling anywhere in the record, and its hex form: the kernel hex-encodes a whole argument
    /// that holds a space, a double quote or a byte outside 0x21-0x7e (kernel/audit.c audit_string_contains_control).</summary>
    private static (IEnumerable<string> Text, IEnumerable<string> Hex) Keywords(IEnumerable<string> spellings)
    {
        var list = spellings.ToList();
        return (list.Select(s => $"*{SigmaYaml.Glob(s)}*"),
                list.SelectMany(s => s.Split('*').Select(SpellingVariants.KernelHexForms).Aggregate(
                    EmptyPrefix.AsEnumerable(), (acc, part) => acc.SelectMany(a => part.Select(p => a.Length == 0 ? p : a + "*" + p))))
                    .Select(h => $"*{h}*"));
    }

    private static IEnumerable<SigmaSearch> MentionOnlyFilters(ExportModel m, string field) =>
    [
        SigmaSearch.Map("filter_main_mention_only_name", SigmaFieldMatch.Of(field, m.MentionOnly.Select(SigmaYaml.Literal))),
        SigmaSearch.Map("filter_main_mention_only_path", SigmaFieldMatch.Of(field + "|endswith", m.MentionOnly.Select(p => "/" + SigmaYaml.Literal(p)))),
    ];

    private static readonly string[] ExecveLimits =
    [
        "Limits (docs/export.md): one EXECVE record at a time, so the agent allow-list (exe= is on the SYSCALL",
        "record), wrappers and `sh -c` scripts that only mention an address are not seen; arguments split over",
        "records (a1[0], a1[1]) are matched piece by piece; hex forms match the spelling's case as listed.",
    ];

    private static SigmaRule ExecvePaths(ExportModel m, string file, string title, AccessClass level, AccessClass[] classes) =>
        Execve(m, file, title,
            $"Detects an audited command line that names a metadata-service path serving {string.Join(" or ", classes.Select(c => c.ToWire()))},\n"
                + "as text or in the kernel's hex encoding of a whole argument (an argument with a space or a quote, e.g. `sh -c \"curl ...\"`).\n"
                + "imdswatch layer: MetadataAPIProcess.",
            m.StrongPaths(classes).Select(p => p.Prefix),
            ["Administrators or configuration tools reading the metadata service by hand", "Cloud agents started with the URL on their command line"],
            ExportModel.HostRisk(level, ProgramRole.FetchTool), ExecveLimits);

    private static SigmaRule ExecveEndpoint(ExportModel m, bool obfuscated) =>
        Execve(m,
            obfuscated ? "lnx_auditd_imds_obfuscated_address_execve" : "lnx_auditd_imds_metadata_endpoint_execve",
            obfuscated ? "Obfuscated Cloud Instance Metadata Address In Audited Command Line" : "Cloud Instance Metadata Endpoint In Audited Command Line",
            (obfuscated
                ? "Detects an audited command line that spells a metadata-service address so a plain match misses it: decimal, hex, octal,\nshort forms, IPv4-mapped, -compatible and NAT64 IPv6, IPv6 written out in full."
                : "Detects an audited command line that names a metadata or credential service (AWS, Azure, GCP, ECS, EKS Pod Identity,\nAlibaba, Oracle, Tencent ...) by address or host name.")
                + "\nMatched as text and in the kernel's hex encoding of a whole argument. imdswatch layer: MetadataAPIProcess.",
            obfuscated ? m.ObfuscatedSpellings : m.PlainSpellings,
            obfuscated ? ["Unlikely"] : ["Administrators or configuration tools reading the metadata service by hand", "Scripts that only print or compare the address"],
            ExportModel.HostRisk(AccessClass.Metadata, ProgramRole.FetchTool, obfuscated),
            [.. ExecveLimits, .. obfuscated ? MixedBaseLimit : []]);

    /// <summary>An audit EXECVE rule: the spellings as text and as hex anywhere in the record, programs that only mention left out.</summary>
    private static SigmaRule Execve(ExportModel m, string file, string title, string description, IEnumerable<string> spellings,
        IReadOnlyList<string> falsePositives, int risk, IReadOnlyList<string> limits)
    {
        var (text, hex) = Keywords(spellings);
        return new SigmaRule
        {
            FileName = file,
            Folder = Auditd,
            Title = title,
            Description = description,
            References = References,
            LogSource = (null, "linux", "auditd"),
            Searches =
            [
                SigmaSearch.Map("selection", SigmaFieldMatch.Of("type", ["EXECVE"])),
                SigmaSearch.KeywordList("keywords_text", text),
                SigmaSearch.KeywordList("keywords_hex", hex),
                .. MentionOnlyFilters(m, "a0"),
            ],
            Condition = "selection and 1 of keywords_* and not 1 of filter_main_*",
            FalsePositives = falsePositives,
            Level = ExportModel.Level(risk),
            Limits = limits,
        };
    }

    /// <summary>The kernel's SOCKADDR: family (little-endian), port, then the address, as upper-case hex.</summary>
    private static SigmaRule Sockaddr(ExportModel m)
    {
        string Hex(IPAddress a) => Convert.ToHexString(a.GetAddressBytes());
        var v4 = m.IPv4.Select(Hex).ToList();
        var v6 = m.ConnectAddresses.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).Select(Hex).ToList();
        return new SigmaRule
        {
            FileName = "lnx_auditd_imds_sockaddr_metadata_address",
            Folder = Auditd,
            Title = "Connection To Cloud Instance Metadata Address In Audit SOCKADDR",
            Description = "Detects the kernel's record of a socket address that is a metadata or credential service (IPv4, IPv6, IPv4-mapped,\n"
                + "-compatible and NAT64 forms): every access, also those with no URL on any command line (scripts, SDKs, curl -K, SSRF).\n"
                + "Needs an audit rule on connect/sendto/sendmsg (imdswatch rules auditd). imdswatch layer: MetadataAPINetwork.",
            References = References,
            LogSource = (null, "linux", "auditd"),
            Searches =
            [
                SigmaSearch.Map("selection", SigmaFieldMatch.Of("type", ["SOCKADDR"]),
                    SigmaFieldMatch.Of("saddr|re", [$"^0200[0-9A-F]{{4}}(?:{string.Join('|', v4)})", $"^0A00[0-9A-F]{{12}}(?:{string.Join('|', v6)})"])),
            ],
            Condition = "selection",
            FalsePositives = ["Cloud agents (cloud-init, SSM, CloudWatch, guest agents) and SDKs: their executable is on the SYSCALL record, see net_connection rules"],
            Level = ExportModel.Level(ExportModel.HostRisk(AccessClass.Connect, ProgramRole.Other)),
            Limits =
            [
                "Limits (docs/export.md): the SOCKADDR record holds no executable, syscall or pid, so agents cannot be excluded",
                "and a bind()/accept() of a metadata address matches too. Not expressible as a Sigma correlation with the",
                "SYSCALL record: the two share only the audit event id, which no Sigma taxonomy field carries.",
            ],
        };
    }

    private static IEnumerable<SigmaSearch> AgentFilters(ExportModel m) =>
    [
        SigmaSearch.Map("filter_main_agents", SigmaFieldMatch.Of("Image", m.AgentExecutables.Select(SigmaYaml.Glob))),
    ];

    private static SigmaRule Process(ExportModel m) => new()
    {
        FileName = ProcessRuleName,
        Name = ProcessRuleName,
        Folder = ProcessCreation,
        Title = "Process Command Line Names Cloud Instance Metadata Endpoint",
        Description = "Detects a process started with a metadata or credential service in its command line, in any listed spelling,\n"
            + "or with a metadata path that is evidence alone. Cloud agents are excluded by executable path, never by name.\n"
            + "imdswatch layer: MetadataAPIProcess.",
        References = References,
        LogSource = ("process_creation", "linux", null),
        Searches =
        [
            SigmaSearch.Map("selection_endpoint", SigmaFieldMatch.Of("CommandLine|contains", m.PlainSpellings.Concat(m.ObfuscatedSpellings).Select(SigmaYaml.Literal))),
            SigmaSearch.Map("selection_path", SigmaFieldMatch.Of("CommandLine|contains",
                m.StrongPaths(AccessClass.Credentials, AccessClass.Token, AccessClass.UserData).Select(p => SigmaYaml.Glob(p.Prefix)))),
            SigmaSearch.Map("filter_main_mention_only", SigmaFieldMatch.Of("Image|endswith", m.MentionOnly.Select(p => "/" + SigmaYaml.Literal(p)))),
            .. AgentFilters(m),
        ],
        Condition = "1 of selection_* and not 1 of filter_main_*",
        Fields = ["Image", "CommandLine", "User", "ParentImage"],
        FalsePositives = ["Administrators or configuration tools reading the metadata service by hand"],
        Level = ExportModel.Level(ExportModel.HostRisk(AccessClass.Metadata, ProgramRole.FetchTool)),
        Limits =
        [
            "Limits (docs/export.md): agents recognised by the script an interpreter runs (cloud-init, waagent, cfn-*)",
            "cannot be excluded here (Image is the interpreter); shells that only mention an address match.",
        ],
    };

    private static SigmaRule Connection(ExportModel m, bool webServers)
    {
        var cidrs = m.ConnectAddresses.Select(a => $"{a}/{(a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)}");
        var searches = new List<SigmaSearch> { SigmaSearch.Map("selection", SigmaFieldMatch.Of("DestinationIp|cidr", cidrs)) };
        if (webServers)
            searches.Add(SigmaSearch.Map("selection_web_server", SigmaFieldMatch.Of("Image|endswith", m.WebServers.Select(w => "/" + SigmaYaml.Glob(w)))));
        searches.AddRange(AgentFilters(m));
        return new SigmaRule
        {
            FileName = webServers ? "net_connection_lnx_imds_web_server_to_metadata_address" : ConnectionRuleName,
            Name = webServers ? null : ConnectionRuleName,
            Folder = NetworkConnection,
            Title = webServers ? "Web Server Process Connects To Cloud Instance Metadata Service" : "Connection To Cloud Instance Metadata Service",
            Description = (webServers
                    ? "Detects a web server or application server process connecting to a metadata or credential service: the mark of\nserver-side request forgery (SSRF)."
                    : "Detects a connection to a metadata or credential service address (IPv4, IPv6, IPv4-mapped, -compatible, NAT64),\nwhatever the command line said. Cloud agents are excluded by executable path, never by name.")
                + "\nimdswatch layer: MetadataAPINetwork.",
            References = References,
            LogSource = ("network_connection", "linux", null),
            Searches = searches,
            Condition = webServers ? "selection and selection_web_server and not 1 of filter_main_*" : "selection and not 1 of filter_main_*",
            Fields = ["Image", "User", "DestinationIp", "DestinationPort"],
            FalsePositives = webServers
                ? ["Applications that read their own instance metadata by design (add their executable to a filter)"]
                : ["SDKs and applications reading credentials the documented way (the engine's per-host baseline makes them silent;", "Sigma cannot: add known programs as filters)"],
            Level = ExportModel.Level(ExportModel.HostRisk(AccessClass.Connect, webServers ? ProgramRole.WebServer : ProgramRole.Other)),
            Limits =
            [
                "Limits (docs/export.md): per-host rarity (a user or program new on this host) is not expressible in Sigma;",
                "agents recognised by their script are not excluded (Image is the interpreter); Sigma's * spans '/'.",
            ],
        };
    }

    /// <summary>Request spellings a web server or proxy log shows: plain, obfuscated, percent-encoded once and twice.</summary>
    private static IEnumerable<string> UrlSpellings(ExportModel m) =>
        m.PlainSpellings.Concat(m.ObfuscatedSpellings)
            .Concat(m.IPv4.SelectMany(a => new[] { a.ToString().Replace(".", "%2e", StringComparison.Ordinal), a.ToString().Replace(".", "%252e", StringComparison.Ordinal) }));

    private static SigmaRule Web(ExportModel m, bool answered)
    {
        var paths = m.StrongPaths(answered ? [AccessClass.Credentials] : [AccessClass.Credentials, AccessClass.Token, AccessClass.UserData, AccessClass.Metadata])
            .Select(p => p.Prefix).ToList();
        var values = (answered ? paths : UrlSpellings(m).Concat(paths))
            .SelectMany(v => new[] { SigmaYaml.Glob(v), SigmaYaml.Glob(v.Replace("/", "%2f", StringComparison.Ordinal)) }).Distinct().ToList();
        var searches = new List<SigmaSearch>
        {
            SigmaSearch.Map("selection_query", SigmaFieldMatch.Of("cs-uri-query|contains", values)),
            SigmaSearch.Map("selection_stem", SigmaFieldMatch.Of("cs-uri-stem|contains", values)),
        };
        if (answered)
            searches.Add(SigmaSearch.Map("answered", new SigmaFieldMatch("sc-status", [200, 201, 202, 203, 206])));
        else
            searches.Add(SigmaSearch.Map("selection_host", SigmaFieldMatch.Of("cs-host", m.PlainSpellings.Where(s => !s.StartsWith("://", StringComparison.Ordinal)).Select(SigmaYaml.Literal))));
        return new SigmaRule
        {
            FileName = answered ? "web_imds_ssrf_credentials_answered" : "web_imds_ssrf_metadata_endpoint",
            Folder = Webserver,
            Title = answered ? "Cloud Instance Metadata Credentials Returned Through Web Server" : "Cloud Instance Metadata Endpoint In Web Request",
            Description = (answered
                    ? "Detects a request for metadata-service credentials that the web server answered with success: the server fetched\nthem and handed them to the client (SSRF that worked)."
                    : "Detects a web request whose URL, query or Host names a metadata or credential service, in plain, obfuscated or\npercent-encoded spelling, or a metadata path: a server-side request forgery (SSRF) attempt.")
                + "\nimdswatch layer: MetadataSSRFAttempt.",
            References = [.. References, "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"],
            LogSource = ("webserver", null, null),
            Searches = searches,
            Condition = answered ? "1 of selection_* and answered" : "1 of selection_*",
            Fields = ["c-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "sc-status"],
            FalsePositives = answered ? ["Unlikely"] : ["Vulnerability scanners probing for SSRF (still worth knowing which endpoints they reached)"],
            Level = ExportModel.Level(ExportModel.WebRisk(answered ? AccessClass.Credentials : AccessClass.Metadata, answered)),
            ExtraTags = ["attack.initial-access", "attack.t1190"],
            Limits = ["Limits (docs/export.md): full-width digits and mixed-base spellings are decoded by the engine, not listed here;", "the response body size is not checked."],
        };
    }

    private static SigmaRule ProxyRule(ExportModel m) => new()
    {
        FileName = "proxy_imds_metadata_endpoint_request",
        Folder = Proxy,
        Title = "Cloud Instance Metadata Endpoint Requested Through Proxy",
        Description = "Detects a request through a forward proxy to a metadata or credential service, in any listed spelling: a host\n"
            + "reaching another host's metadata service, or SSRF through the proxy. imdswatch layer: MetadataSSRFAttempt.",
        References = References,
        LogSource = ("proxy", null, null),
        Searches =
        [
            SigmaSearch.Map("selection_uri", SigmaFieldMatch.Of("c-uri|contains", UrlSpellings(m).Select(SigmaYaml.Glob))),
            SigmaSearch.Map("selection_host", SigmaFieldMatch.Of("cs-host", m.PlainSpellings.Where(s => !s.StartsWith("://", StringComparison.Ordinal)).Concat(m.ObfuscatedSpellings).Select(SigmaYaml.Literal))),
        ],
        Condition = "1 of selection_*",
        Fields = ["c-ip", "c-uri", "cs-host", "sc-status"],
        FalsePositives = ["A proxy configured for instances that should bypass it for the metadata service (fix NO_PROXY)"],
        Level = ExportModel.Level(ExportModel.WebRisk(AccessClass.Metadata)),
        ExtraTags = ["attack.initial-access", "attack.t1190"],
    };

    private static SigmaRule ImdsV1() => new()
    {
        FileName = "aws_cloudtrail_imds_v1_credential_delivery",
        Folder = CloudTrail,
        Title = "AWS Instance Credentials Delivered By IMDSv1",
        Description = "Detects API calls made with instance-role credentials that the instance fetched over IMDSv1 (ec2RoleDelivery 1.0):\n"
            + "any SSRF on that instance can fetch them. Require IMDSv2 (HttpTokens=required). imdswatch layer: IMDSv1CredentialDelivery.",
        References = ["https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html"],
        LogSource = (null, "aws", "cloudtrail"),
        Searches = [SigmaSearch.Map("selection", SigmaFieldMatch.Of("userIdentity.sessionContext.ec2RoleDelivery", ["1.0"]))],
        Condition = "selection",
        Fields = ["userIdentity.arn", "sourceIPAddress", "eventName"],
        FalsePositives = ["Instances not yet migrated to IMDSv2"],
        Level = ExportModel.Level(ExportModel.ImdsV1Risk),
    };

    private static SigmaRule OffInstance() => new()
    {
        FileName = OffInstanceRuleName,
        Name = OffInstanceRuleName,
        Folder = CloudTrail,
        Title = "AWS Instance Role Session Used From Public Address",
        Description = "Detects an EC2 instance role session (session name i-...) calling AWS from a public address that is not an AWS\n"
            + "service, a VPC endpoint or an on-instance agent's call. The engine also knows the instance's own addresses and\n"
            + "whose address it is; Sigma cannot, so this also fires for the instance's own public address: use the correlation\n"
            + "rule (one session from two or more addresses) to alert. imdswatch layer: InstanceCredentialExfiltration.",
        References = ["https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html"],
        LogSource = (null, "aws", "cloudtrail"),
        Searches =
        [
            SigmaSearch.Map("selection", SigmaFieldMatch.Of("userIdentity.type", ["AssumedRole"]),
                SigmaFieldMatch.Of("userIdentity.arn|re", [@":assumed-role/[^/]+/i-[0-9a-fA-F]{8,17}$"])),
            SigmaSearch.Map("filter_main_private", SigmaFieldMatch.Of("sourceIPAddress|cidr", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"])),
            SigmaSearch.Map("filter_main_aws_service", SigmaFieldMatch.Of("sourceIPAddress|endswith", [".amazonaws.com"])),
            SigmaSearch.Map("filter_main_vpc_endpoint", SigmaFieldMatch.Of("vpcEndpointId|startswith", ["vpce-"])),
            SigmaSearch.Map("filter_main_on_instance_agent", SigmaFieldMatch.Of("userAgent|contains", CloudTrailRules.OnInstanceAgents.Select(SigmaYaml.Literal))),
        ],
        Condition = "selection and not 1 of filter_main_*",
        Fields = ["userIdentity.arn", "userIdentity.accessKeyId", "sourceIPAddress", "userAgent", "eventName"],
        FalsePositives = ["The instance's own public address (NAT gateway or public IP): Sigma cannot learn it, the engine does"],
        Level = "low",
        Limits = ["Limits (docs/export.md): the instance's own addresses and AWS ip-ranges.json are not expressible in Sigma."],
    };

    private static SigmaRule SeedCloudRule() => new()
    {
        FileName = "aws_cloudtrail_imds_session_token_from_metadata_address",
        Folder = CloudTrail,
        Title = "AWS GetSessionToken From Metadata Service Address",
        Description = "Detects the seed rule's CloudTrail condition, as the engine keeps it: GetSessionToken with a roleArn by an AWS\n"
            + "service from 169.254.169.254. imdswatch layer: MetadataCredentialsUsed.",
        References = References,
        LogSource = (null, "aws", "cloudtrail"),
        Searches =
        [
            SigmaSearch.Map("selection", SigmaFieldMatch.Of("eventName", ["GetSessionToken"]), SigmaFieldMatch.Of("userIdentity.type", ["AWSService"]),
                SigmaFieldMatch.Of("sourceIPAddress", ["169.254.169.254"]), SigmaFieldMatch.Of("requestParameters.roleArn", ["*"])),
        ],
        Condition = "selection",
        FalsePositives = ["Unknown"],
        Level = ExportModel.Level(ExportModel.SeedCloudRisk),
    };

    private static SigmaCorrelation OffInstanceCorrelation() => new()
    {
        FileName = "aws_cloudtrail_imds_instance_credentials_multiple_addresses",
        Folder = CloudTrail,
        Title = "AWS Instance Role Session Used From Several Public Addresses",
        Description = "Detects one instance role session (its access key) calling AWS from two or more public addresses within an hour: the\n"
            + "instance calls from one address, so the others are where its stolen credentials are used.\n"
            + "imdswatch layer: InstanceCredentialExfiltration (approximated).",
        Type = "value_count",
        Rules = [OffInstanceRuleName],
        GroupBy = ["userIdentity.accessKeyId"],
        Timespan = "1h",
        Condition = [("field", "sourceIPAddress"), ("gte", 2)],
        FalsePositives = ["Instances whose egress changes address (several NAT gateways)"],
        Level = ExportModel.Level(ExportModel.ExfiltrationRisk),
        Limits =
        [
            "What is lost (docs/export.md): the engine's CredentialTheftChain (role credentials fetched on a host, then that",
            "role used off the instance within 24 h) needs the role name inside a URL joined to a CloudTrail identity: no",
            "field both events share, so no Sigma correlation can say it: run imdswatch on both logs for the chain.",
        ],
    };

    private static SigmaCorrelation ProcessAndConnection() => new()
    {
        FileName = "lnx_imds_process_and_connection_correlation",
        Folder = NetworkConnection,
        Title = "Process Naming Cloud Instance Metadata Endpoint Connects To It",
        Description = "Detects a process whose command line named a metadata endpoint connecting to it within a minute: the engine's\n"
            + "one alert for an exec and its connect (imds.layers process and network).",
        Type = "temporal",
        Rules = [ProcessRuleName, ConnectionRuleName],
        GroupBy = ["ProcessGuid"],
        Timespan = "1m",
        FalsePositives = ["Administrators reading the metadata service by hand"],
        Level = ExportModel.Level(ExportModel.HostRisk(AccessClass.Metadata, ProgramRole.FetchTool)),
    };
}
