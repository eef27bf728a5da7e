using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Indicators;

namespace ImdsWatch.Export;

/// <summary>
/// Elastic Security: an NDJSON file for the detection rules import API (POST /api/detection_engine/rules/_import)
/// with EQL for process starts, new_terms per host for network events, ES|QL for web requests and CloudTrail, and
/// the machine-learning rule; plus the anomaly job and datafeed it needs, partitioned by host.
/// </summary>
internal static class ElasticExporter
{
    private static readonly string[] CommonTags = ["Tactic: Credential Access", "Use Case: Threat Detection", "imdswatch"];

    public const string RulesFile = "elastic/imdswatch-detection-rules.ndjson";
    public const string JobId = "imdswatch_linux_rare_metadata_user_by_host";
    private static readonly string[] HostIndices = ["logs-endpoint.events.process-*", "logs-endpoint.events.network-*", "logs-auditd_manager.auditd-*", "auditbeat-*", "logs-system.*"];
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    public static IReadOnlyList<ExportFile> Export(ExportModel m)
    {
        var rules = new List<JsonObject>
        {
            ProcessRule(m, credentials: true),
            ProcessRule(m, credentials: false),
            NewTermsRule(m, "process.executable", "New Program Connecting To The Metadata Service On A Host (imdswatch)",
                "A program (executable) connects to a metadata or credential service address for the first time on this host in the learning window. Cloud agents are excluded by executable path."),
            NewTermsRule(m, "user.name", "New User Connecting To The Metadata Service On A Host (imdswatch)",
                "A user connects to a metadata or credential service address for the first time on this host in the learning window: the deterministic, per-host counterpart of the ML rule."),
            WebRule(m),
            CloudTrailRule(),
            SeedCloudTrailRule(),
            MachineLearningRule(m),
        };
        var ndjson = new StringBuilder();
        foreach (var rule in rules)
            ndjson.Append(rule.ToJsonString(Compact)).Append('\n');
        return
        [
            new(RulesFile, ndjson.ToString()),
            new($"elastic/ml/{JobId}.job.json", Job(m).ToJsonString(Indented) + "\n"),
            new($"elastic/ml/datafeed-{JobId}.json", Datafeed(m).ToJsonString(Indented) + "\n"),
        ];
    }

    private static JsonObject Base(string name, string description, int risk, string[] tags, string[] falsePositives, string note)
    {
        var severity = ExportModel.Level(risk);
        return new JsonObject
        {
            ["rule_id"] = StableId.For("elastic:" + name),
            ["name"] = name,
            ["description"] = description,
            ["author"] = new JsonArray("imdswatch"),
            ["version"] = 1,
            ["enabled"] = false,
            ["risk_score"] = risk,
            ["severity"] = severity,
            ["interval"] = "15m",
            ["from"] = "now-45m",
            ["to"] = "now",
            ["max_signals"] = 100,
            ["tags"] = new JsonArray([.. CommonTags.Concat(tags).Select(t => JsonValue.Create(t))]),
            ["references"] = new JsonArray(
                "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html",
                "https://attack.mitre.org/techniques/T1552/005/"),
            ["false_positives"] = new JsonArray([.. falsePositives.Select(f => JsonValue.Create(f))]),
            ["note"] = note,
            ["threat"] = Threat(),
        };
    }

    // The constructor, not a collection expression: that would call the generic JsonArray.Add<T>, which native AOT
    // cannot compile.
    private static JsonArray Threat() => new(
        new JsonObject
        {
            ["framework"] = "MITRE ATT&CK",
            ["tactic"] = new JsonObject { ["id"] = "TA0006", ["name"] = "Credential Access", ["reference"] = "https://attack.mitre.org/tactics/TA0006/" },
            ["technique"] = new JsonArray(new JsonObject
            {
                ["id"] = "T1552",
                ["name"] = "Unsecured Credentials",
                ["reference"] = "https://attack.mitre.org/techniques/T1552/",
                ["subtechnique"] = new JsonArray(new JsonObject
                {
                    ["id"] = "T1552.005",
                    ["name"] = "Cloud Instance Metadata API",
                    ["reference"] = "https://attack.mitre.org/techniques/T1552/005/",
                }),
            }),
        });

    private static string Note(string layer, string what) =>
        $"## Triage\n\nimdswatch layer: {layer}. {what}\n\n"
        + "- Who ran it (user.name, process.parent), from a terminal or a service?\n"
        + "- Which path was asked for: credentials, token, user-data or metadata?\n"
        + "- Was the role then used from elsewhere (CloudTrail, same role, next 24 h)?\n\n"
        + "## Response\n\nIsolate the host, revoke the role's older sessions (AWSRevokeOlderSessions), require IMDSv2 with hop limit 1.";

    private static string EqlString(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string EqlList(IEnumerable<string> values) => "(" + string.Join(", ", values.Distinct().Select(EqlString)) + ")";

    /// <summary>A catalog glob as an EQL/KQL wildcard, whose '*' spans '/' too.</summary>
    private static string Wildcard(string glob) => glob.Replace("**", "*", StringComparison.Ordinal);

    private static JsonObject ProcessRule(ExportModel m, bool credentials)
    {
        var needles = credentials
            ? m.StrongPaths(AccessClass.Credentials).Select(p => Wildcard(p.Prefix))
            : m.PlainSpellings.Concat(m.ObfuscatedSpellings).Concat(m.StrongPaths(AccessClass.Token, AccessClass.UserData).Select(p => Wildcard(p.Prefix)));
        var query = "process where host.os.type == \"linux\" and event.type == \"start\" and\n"
            + $"  process.command_line : {EqlList(needles.Select(n => "*" + n + "*"))} and\n"
            + $"  not process.executable : {EqlList(m.AgentExecutables.Select(Wildcard))} and\n"
            + $"  not process.name in {EqlList(m.MentionOnly)}";
        var risk = ExportModel.HostRisk(credentials ? AccessClass.Credentials : AccessClass.Metadata, ProgramRole.FetchTool);
        var rule = Base(credentials ? "Cloud Instance Metadata Credentials Requested By Command Line (imdswatch)" : "Cloud Instance Metadata Endpoint In Command Line (imdswatch)",
            credentials
                ? "A process started with a metadata-service credentials path in its arguments (AWS role credentials, Azure managed identity, GCP service-account token, Alibaba RAM, Oracle identity)."
                : "A process started with a metadata or credential service in its arguments, in any listed spelling (decimal, hex, octal, short, IPv6-embedded), including ECS and EKS Pod Identity.",
            risk, ["Domain: Endpoint", "OS: Linux", "Data Source: Elastic Defend", "Data Source: Auditd Manager"],
            ["Administrators or configuration tools reading the metadata service by hand"],
            Note("MetadataAPIProcess", "Auditd Manager and Auditbeat decode the kernel's hex-encoded arguments into process.args, so hex needs no rule of its own."));
        rule["type"] = "eql";
        rule["language"] = "eql";
        rule["index"] = new JsonArray([.. HostIndices.Select(i => JsonValue.Create(i))]);
        rule["query"] = query;
        rule["investigation_fields"] = new JsonObject { ["field_names"] = new JsonArray("host.name", "user.name", "process.executable", "process.command_line", "process.parent.executable") };
        return rule;
    }

    private static string KqlQuote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>KQL wildcard value: unquoted, its special characters escaped, '*' kept.</summary>
    private static string KqlWildcard(string glob) =>
        string.Concat(Wildcard(glob).Select(c => c is '\\' or '(' or ')' or ':' or '<' or '>' or '"' or '{' or '}' or ' ' ? "\\" + c : c.ToString()));

    private static string NetworkQuery(ExportModel m) =>
        "event.category:network and destination.ip:(" + string.Join(" or ", m.ConnectAddresses.Select(a => KqlQuote(a.ToString()))) + ")"
        + " and not process.executable:(" + string.Join(" or ", m.AgentExecutables.Select(KqlWildcard)) + ")";

    private static JsonObject NewTermsRule(ExportModel m, string field, string name, string description)
    {
        var risk = ExportModel.HostRisk(AccessClass.Connect, ProgramRole.Other);
        var rule = Base(name, description, risk, ["Domain: Endpoint", "OS: Linux", "Data Source: Elastic Defend", "Data Source: Auditd Manager"],
            ["SDKs and applications reading credentials the documented way the first time they run on a host"],
            Note("MetadataAPINetwork", "The connection is evidence whatever the command line said: scripts, SDKs, curl -K and SSRF have no URL in argv."));
        rule["type"] = "new_terms";
        rule["language"] = "kuery";
        rule["index"] = new JsonArray([.. HostIndices.Select(i => JsonValue.Create(i))]);
        rule["query"] = NetworkQuery(m);
        rule["new_terms_fields"] = new JsonArray("host.id", field);
        rule["history_window_start"] = $"now-{m.Anomaly.LearningPeriod.TotalDays}d";
        rule["investigation_fields"] = new JsonObject { ["field_names"] = new JsonArray("host.name", "user.name", "process.executable", "destination.ip", "destination.port") };
        return rule;
    }

    private static string EsqlString(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static JsonObject WebRule(ExportModel m)
    {
        var spellings = m.PlainSpellings.Concat(m.ObfuscatedSpellings)
            .Concat(m.IPv4.SelectMany(a => new[] { a.ToString().Replace(".", "%2e", StringComparison.Ordinal), a.ToString().Replace(".", "%252e", StringComparison.Ordinal) }))
            .Concat(m.StrongPaths(AccessClass.Credentials, AccessClass.Token, AccessClass.UserData).Select(p => Wildcard(p.Prefix)))
            .Select(s => s.ToLowerInvariant()).Distinct().ToList();
        var query = "FROM logs-nginx.access-*, logs-apache.access-*, logs-aws.elb_logs-*, logs-squid.* METADATA _id, _index, _version\n"
            + "| EVAL imds_url = TO_LOWER(CONCAT(COALESCE(url.original, \"\"), \" \", COALESCE(url.domain, \"\")))\n"
            + "| WHERE " + string.Join("\n    OR ", spellings.Select(s => $"imds_url LIKE {EsqlString("*" + s + "*")}")) + "\n"
            + "| KEEP @timestamp, _id, _index, _version, source.ip, http.request.method, url.original, url.domain, http.response.status_code, http.response.body.bytes, host.name";
        var risk = ExportModel.WebRisk(AccessClass.Metadata);
        var rule = Base("Cloud Instance Metadata Endpoint In Web Request (imdswatch)",
            "A web or proxy request whose URL or host names a metadata or credential service in any listed spelling, percent-encoded too, or a metadata path: a server-side request forgery (SSRF) attempt.",
            risk, ["Domain: Web", "Data Source: Nginx", "Data Source: Apache", "Data Source: AWS ELB"],
            ["Vulnerability scanners probing for SSRF"],
            Note("MetadataSSRFAttempt", "A 2xx answer with a body means the server fetched the metadata and returned it."));
        rule["type"] = "esql";
        rule["language"] = "esql";
        rule["query"] = query;
        return rule;
    }

    private static JsonObject CloudTrailRule()
    {
        var agents = string.Join(" OR ", CloudTrailRules.OnInstanceAgents.Select(a => $"TO_LOWER(user_agent.original) LIKE {EsqlString("*" + a.ToLowerInvariant() + "*")}"));
        var query = "FROM logs-aws.cloudtrail-*\n"
            + "| WHERE aws.cloudtrail.user_identity.type == \"AssumedRole\" AND aws.cloudtrail.user_identity.arn RLIKE \".*/i-[0-9a-fA-F]{8,17}\"\n"
            + "    AND source.ip IS NOT NULL\n"
            + "    AND NOT CIDR_MATCH(source.ip, \"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\", \"100.64.0.0/10\", \"fc00::/7\")\n"
            + $"    AND NOT (COALESCE(user_agent.original, \"\") != \"\" AND ({agents}))\n"
            + "| STATS addresses = COUNT_DISTINCT(source.ip), source_ips = VALUES(source.ip), actions = VALUES(event.action), first = MIN(@timestamp)\n"
            + "    BY aws.cloudtrail.user_identity.access_key_id, aws.cloudtrail.user_identity.arn\n"
            + "| WHERE addresses >= 2";
        var rule = Base("AWS Instance Role Session Used From Several Public Addresses (imdswatch)",
            "One EC2 instance role session (session name i-...) calls AWS from two or more public addresses that are not on-instance agents' calls: the instance calls from one, the others are where its stolen credentials are used (GuardDuty's InstanceCredentialExfiltration, approximated).",
            ExportModel.ExfiltrationRisk, ["Domain: Cloud", "Data Source: AWS", "Data Source: Amazon Web Services", "Data Source: AWS CloudTrail"],
            ["Instances whose egress changes address (several NAT gateways)"],
            Note("InstanceCredentialExfiltration", "The engine also uses the instance's own addresses, AWS ip-ranges.json and whose address it is; ES|QL here counts addresses per session."));
        rule["type"] = "esql";
        rule["language"] = "esql";
        rule["query"] = query;
        rule["from"] = "now-60m";
        return rule;
    }

    /// <summary>The seed's CloudTrail condition, as the engine keeps it.</summary>
    private static JsonObject SeedCloudTrailRule()
    {
        var rule = Base("AWS GetSessionToken From Metadata Service Address (imdswatch)",
            "The seed rule's CloudTrail layer, as the engine keeps it: GetSessionToken with a roleArn by an AWS service from 169.254.169.254.",
            ExportModel.SeedCloudRisk, ["Domain: Cloud", "Data Source: AWS", "Data Source: AWS CloudTrail"], ["Unknown"],
            Note(CloudTrailRules.MetadataCredentialsUsed.ToString(), "The seed's condition, kept as written."));
        rule["type"] = "query";
        rule["language"] = "kuery";
        rule["index"] = new JsonArray("logs-aws.cloudtrail-*");
        rule["query"] = "event.action:\"GetSessionToken\" and aws.cloudtrail.user_identity.type:\"AWSService\" and source.address:\"169.254.169.254\" and aws.cloudtrail.request_parameters:*roleArn*";
        return rule;
    }

    private static JsonObject MachineLearningRule(ExportModel m)
    {
        var risk = ExportModel.HostRisk(AccessClass.Connect, ProgramRole.Other);
        var rule = Base("Unusual Linux User Calling The Metadata Service On This Host (imdswatch)",
            "Looks for anomalous access to the cloud metadata service by a user that is rare on this host: the seed's ML rule with the anomaly job partitioned by host, so a user common elsewhere in the fleet is still rare where it never ran.",
            risk, ["Domain: Endpoint", "OS: Linux", "Rule Type: ML", "Rule Type: Machine Learning"],
            ["Routine administrative scripts run by a new account", "A new deployment user on a host"],
            Note("MetadataAPINetwork (per-host rarity)", $"Needs the anomaly job {JobId} (elastic/ml/) running: PUT _ml/anomaly_detectors/{JobId}, PUT _ml/datafeeds/datafeed-{JobId}, then start both."));
        rule["type"] = "machine_learning";
        rule["anomaly_threshold"] = m.Anomaly.UserThreshold;
        rule["machine_learning_job_id"] = JobId;
        return rule;
    }

    private static JsonObject Job(ExportModel m) => new()
    {
        ["job_id"] = JobId,
        ["description"] = "imdswatch: Linux - a user rare on this host calling the cloud metadata service (rare user.name partitioned by host.id).",
        ["groups"] = new JsonArray("linux", "security", "imdswatch"),
        ["analysis_config"] = new JsonObject
        {
            ["bucket_span"] = $"{m.Anomaly.Bucket.TotalMinutes}m",
            ["detectors"] = new JsonArray(new JsonObject
            {
                ["detector_description"] = "rare user.name per host.id",
                ["function"] = "rare",
                ["by_field_name"] = "user.name",
                ["partition_field_name"] = "host.id",
                ["detector_index"] = 0,
            }),
            ["influencers"] = new JsonArray("host.name", "host.id", "user.name", "user.id", "process.executable", "event.module"),
        },
        ["allow_lazy_open"] = true,
        ["analysis_limits"] = new JsonObject { ["model_memory_limit"] = "64mb" },
        ["data_description"] = new JsonObject { ["time_field"] = "@timestamp", ["time_format"] = "epoch_ms" },
        ["custom_settings"] = new JsonObject
        {
            ["created_by"] = "imdswatch",
            ["security_app_display_name"] = "Unusual Linux User Calling The Metadata Service On This Host",
        },
    };

    private static JsonObject Datafeed(ExportModel m)
    {
        var exact = m.AgentExecutables.Where(g => !g.Contains('*', StringComparison.Ordinal)).ToList();
        var globs = m.AgentExecutables.Where(g => g.Contains('*', StringComparison.Ordinal)).ToList();
        var mustNot = new JsonArray(new JsonObject { ["terms"] = new JsonObject { ["process.executable"] = new JsonArray([.. exact.Select(e => JsonValue.Create(e))]) } });
        foreach (var g in globs)
            mustNot.Add((JsonNode)new JsonObject { ["wildcard"] = new JsonObject { ["process.executable"] = new JsonObject { ["value"] = Wildcard(g) } } });
        return new JsonObject
        {
            ["datafeed_id"] = "datafeed-" + JobId,
            ["job_id"] = JobId,
            ["indices"] = new JsonArray([.. HostIndices.Select(i => JsonValue.Create(i))]),
            ["max_empty_searches"] = 10,
            ["query"] = new JsonObject
            {
                ["bool"] = new JsonObject
                {
                    ["filter"] = new JsonArray(
                        new JsonObject { ["terms"] = new JsonObject { ["destination.ip"] = new JsonArray([.. m.ConnectAddresses.Select(a => JsonValue.Create(a.ToString()))]) } },
                        new JsonObject { ["term"] = new JsonObject { ["host.os.type"] = "linux" } }),
                    ["must_not"] = mustNot,
                },
            },
        };
    }
}
