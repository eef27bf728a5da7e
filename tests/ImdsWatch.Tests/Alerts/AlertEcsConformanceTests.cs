using System.Globalization;
using System.Net;
using System.Text.Json;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Cli;
using ImdsWatch.Events;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Alerts;

/// <summary>
/// Every alert imdswatch writes is held to ECS 8.11: each field outside imds.*, auditd.* and aws.* is in
/// ecs-fields.tsv (the ECS fields imdswatch writes, with their types from ecs_flat.yml) with a JSON value its type
/// accepts, and each imds.* field is mapped by the index template in packaging/.
/// </summary>
public sealed class AlertEcsConformanceTests
{
    private static readonly Dictionary<string, string> EcsTypes = File.ReadAllLines(Path.Combine(Repo.Root, "tests", "ImdsWatch.Tests", "Alerts", "ecs-fields.tsv"))
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l => l.Split('\t'))
        .ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);

    private static readonly IReadOnlyList<JsonElement> Documents = AllAlerts();

    /// <summary>The samples, a mixed folder with every cloud alert type, and one alert of each type with every optional field set.</summary>
    private static List<JsonElement> AllAlerts()
    {
        var docs = new List<JsonElement>();
        void Scan(params string[] paths)
        {
            var stdout = new StringWriter();
            var exit = Program.Run(["scan", .. paths, "--format", "ndjson", "--no-baseline", "-q"], stdout, new StringWriter());
            Assert.Equal(ExitCodes.Ok, exit);
            docs.AddRange(stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()));
        }
        Scan(Repo.Samples);

        var dir = Directory.CreateTempSubdirectory("imdswatch-ecs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "access.log"),
                "203.0.113.50 - - [24/Nov/2026:10:00:00 +0000] \"GET /fetch?url=http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role HTTP/1.1\" 200 1290 \"-\" \"python-requests/2.31\"\n");
            File.WriteAllText(Path.Combine(dir, "cloudtrail.json"), Trail.Records(
                Trail.Call("GetCallerIdentity", "203.0.113.50", "2026-11-24T10:20:00Z", eventSource: "sts.amazonaws.com", userAgent: "aws-cli/2.15 Python/3.11 Darwin/23.1.0"),
                Trail.Call("ListBuckets", "203.0.113.50", "2026-11-24T10:20:05Z", userAgent: "aws-cli/2.15 Python/3.11 Darwin/23.1.0"),
                Trail.Call("ListBuckets", "10.0.0.1", "2026-11-24T11:00:00Z", instance: "i-0fff", role: "old-role", delivery: "1.0"),
                Trail.Call("GetObject", "10.0.0.1", "2026-11-24T11:00:01Z", instance: "i-0fff", role: "old-role", delivery: "1.0")));
            File.WriteAllText(Path.Combine(dir, "seed.json"),
                """{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2026-11-24T11:00:00Z","eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","sourceIPAddress":"169.254.169.254","requestParameters":{"roleArn":"arn:aws:iam::1:role/r"},"eventID":"seed-1"}""" + "\n");
            Scan(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        var sample = new ImdsWatch.Pipeline.DetectionPipeline(ImdsWatch.Detection.DetectionRules.Default)
            .Scan([new ImdsWatch.Sources.Input.InputSource(path, path)]).Alerts.First(a => a.Ancestors.Count > 0 && a.Parent is not null);
        foreach (var type in Enum.GetValues<AlertType>())
        {
            var full = sample with
            {
                AlertType = type,
                Layers = Enum.GetValues<Layer>(),
                Process = sample.Process with { User = new UserIdentity(1000, "alice", 1000, "alice", 0, "root") },
                Url = "https://metadata.google.internal:8443/computeMetadata/v1/instance/service-accounts/default/token?alt=json",
                Http = (int)type % 2 == 0 ? new HttpExchange("GET", "/proxy?u=http://169.254.169.254/", 200, "curl/8.5") : null,
                Source = "198.51.100.7",
                AnomalyScore = 88,
                Explanation = "first time in 30 days",
                CredentialRole = "app-role",
                Outcome = "success",
                Cloud = new CloudContext
                {
                    AccountId = "111122223333",
                    Region = "us-east-1",
                    InstanceId = "i-0abc",
                    RoleName = "app-role",
                    PrincipalArn = "arn:aws:sts::111122223333:assumed-role/app-role/i-0abc",
                    AccessKeyId = "ASIAEXAMPLE",
                    SourceIp = "203.0.113.50",
                    UserAgent = "aws-cli/2.15",
                    Delivery = "1.0",
                    EventIds = ["e-1"],
                    EventNames = ["ListBuckets"],
                },
            };
            docs.Add(JsonDocument.Parse(NdjsonAlertWriter.ToJson(full, DateTimeOffset.UnixEpoch)).RootElement.Clone());
        }
        return docs;
    }

    /// <summary>Leaves of a document as (dotted name, value); arrays of values are one leaf, objects in arrays are walked.</summary>
    private static IEnumerable<(string Name, JsonElement Value)> Leaves(JsonElement e, string prefix = "")
    {
        foreach (var p in e.EnumerateObject())
        {
            var name = prefix.Length == 0 ? p.Name : prefix + "." + p.Name;
            if (p.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var leaf in Leaves(p.Value, name))
                    yield return leaf;
            }
            else if (p.Value.ValueKind == JsonValueKind.Array && p.Value.EnumerateArray().Any(x => x.ValueKind == JsonValueKind.Object))
            {
                foreach (var item in p.Value.EnumerateArray())
                    foreach (var leaf in Leaves(item, name))
                        yield return leaf;
            }
            else
                yield return (name, p.Value);
        }
    }

    private static bool OutsideEcs(string name) =>
        name.StartsWith("imds.", StringComparison.Ordinal) || name.StartsWith("auditd.", StringComparison.Ordinal) || name.StartsWith("aws.", StringComparison.Ordinal);

    /// <summary>Whether a JSON value is one Elasticsearch indexes as the ECS type (an array: each of its values).</summary>
    private static bool Fits(string type, JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Array)
            return v.EnumerateArray().All(x => x.ValueKind != JsonValueKind.Array && Fits(type, x));
        return type switch
        {
            "keyword" or "wildcard" or "match_only_text" or "text" or "constant_keyword" => v.ValueKind == JsonValueKind.String,
            "long" or "integer" or "short" or "byte" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
            "float" or "double" or "scaled_float" => v.ValueKind == JsonValueKind.Number,
            "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "ip" => v.ValueKind == JsonValueKind.String && IPAddress.TryParse(v.GetString(), out _),
            "date" => v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParseExact(v.GetString(), "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _),
            _ => false,
        };
    }

    [Fact]
    public void The_alerts_walked_cover_every_alert_type_and_the_real_cloud_and_web_ones()
    {
        var types = Documents.Select(d => d.GetProperty("imds").GetProperty("alert_type").GetString()).ToHashSet();
        Assert.Equal(Enum.GetNames<AlertType>().Order(), types.Order());
        Assert.True(Documents.Count > 60 + Enum.GetValues<AlertType>().Length, $"{Documents.Count} alerts");
        Assert.Contains(Documents, d => d.GetProperty("imds").GetProperty("alert_type").GetString() == "CredentialTheftChain" && d.TryGetProperty("event", out var ev) && ev.TryGetProperty("created", out _));
    }

    [Fact]
    public void Every_field_outside_imds_auditd_and_aws_is_an_ECS_field_of_a_fitting_type()
    {
        var wrong = new List<string>();
        foreach (var doc in Documents)
        {
            foreach (var (name, value) in Leaves(doc).Where(l => !OutsideEcs(l.Name)))
            {
                if (!EcsTypes.TryGetValue(name, out var type))
                    wrong.Add($"{name}: not in ecs-fields.tsv");
                else if (!Fits(type, value))
                    wrong.Add($"{name}: {value.GetRawText()} is no {type}");
            }
        }
        Assert.Empty(wrong.Distinct());
    }

    [Fact]
    public void Every_listed_ECS_field_is_written_by_some_alert()
    {
        var written = Documents.SelectMany(d => Leaves(d)).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(EcsTypes.Keys, k => !written.Contains(k));
    }

    [Fact]
    public void Event_fields_take_ECS_allowed_values_and_no_alert_has_root_level_extras()
    {
        // ecs_flat.yml 8.11: event.category allowed values and the event.type each expects
        var expected = new Dictionary<string, string[]>
        {
            ["intrusion_detection"] = ["allowed", "denied", "info"],
            ["process"] = ["access", "change", "end", "info", "start"],
            ["network"] = ["access", "allowed", "connection", "denied", "end", "info", "protocol", "start"],
            ["web"] = ["access", "error", "info"],
            ["api"] = ["access", "admin", "allowed", "change", "creation", "deletion", "denied", "end", "info", "start", "user"],
        };
        foreach (var doc in Documents)
        {
            var ev = doc.GetProperty("event");
            Assert.Equal("alert", ev.GetProperty("kind").GetString());
            Assert.Equal("8.11.0", doc.GetProperty("ecs").GetProperty("version").GetString());
            if (ev.TryGetProperty("outcome", out var outcome))
                Assert.Contains(outcome.GetString(), new[] { "success", "failure", "unknown" });
            var types = ev.GetProperty("type").EnumerateArray().Select(t => t.GetString()!).ToList();
            foreach (var category in ev.GetProperty("category").EnumerateArray().Select(c => c.GetString()!))
                Assert.All(types, t => Assert.Contains(t, expected[category]));
            foreach (var extra in new[] { "severity", "risk_score", "evidence" })
                Assert.False(doc.TryGetProperty(extra, out _), $"root-level {extra}");
            if (doc.TryGetProperty("user", out var user) && user.TryGetProperty("name", out var name))
                Assert.DoesNotContain("arn:", name.GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_web_alert_has_its_request_split_into_http_and_url()
    {
        var web = Documents.First(d => d.GetProperty("imds").GetProperty("alert_type").GetString() == "MetadataSSRFAttempt"
            && d.GetProperty("url").GetProperty("original").GetString()!.StartsWith("/fetch", StringComparison.Ordinal));
        Assert.Equal("GET", web.GetProperty("http").GetProperty("request").GetProperty("method").GetString());
        Assert.Equal(200, web.GetProperty("http").GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("/fetch", web.GetProperty("url").GetProperty("path").GetString());
        Assert.StartsWith("url=http://169.254.169.254/", web.GetProperty("url").GetProperty("query").GetString(), StringComparison.Ordinal);
        Assert.Contains(web.GetProperty("source").GetProperty("ip").GetString(), web.GetProperty("related").GetProperty("ip").EnumerateArray().Select(i => i.GetString()));
    }

    [Fact]
    public void A_cloud_alert_names_the_session_as_user_and_keeps_the_ARN_under_aws()
    {
        var exfil = Documents.First(d => d.GetProperty("imds").GetProperty("alert_type").GetString() == "InstanceCredentialExfiltration");
        Assert.Equal("i-0abc1234567890def", exfil.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("arn:aws:sts::111122223333:assumed-role/app-role/i-0abc1234567890def",
            exfil.GetProperty("aws").GetProperty("cloudtrail").GetProperty("user_identity").GetProperty("arn").GetString());
    }

    [Fact]
    public void The_index_template_parses_and_maps_every_imds_field_written()
    {
        using var template = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "packaging", "elasticsearch", "imds-index-template.json")));
        var properties = template.RootElement.GetProperty("template").GetProperty("mappings").GetProperty("properties");
        var missing = new List<string>();
        foreach (var name in Documents.SelectMany(d => Leaves(d)).Select(l => l.Name).Where(OutsideEcs).Distinct())
        {
            var node = properties;
            var parts = name.Split('.');
            for (var i = 0; i < parts.Length; i++)
            {
                if (!node.TryGetProperty(parts[i], out var field))
                {
                    missing.Add(name);
                    break;
                }
                if (i < parts.Length - 1)
                    node = field.GetProperty("properties");
                else
                    Assert.True(field.TryGetProperty("type", out _), $"{name} has no type");
            }
        }
        Assert.Empty(missing);
    }
}
