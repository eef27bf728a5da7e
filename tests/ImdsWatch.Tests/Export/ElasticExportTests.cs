using System.Text.Json.Nodes;
using ImdsWatch.Export;

namespace ImdsWatch.Tests.Export;

public sealed class ElasticExportTests
{
    private static List<JsonObject> Rules() =>
        [.. ExportFixtures.Elastic.Single(f => f.Path.EndsWith(".ndjson", StringComparison.Ordinal)).Content
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject())];

    private static JsonObject File(string suffix) =>
        JsonNode.Parse(ExportFixtures.Elastic.Single(f => f.Path.EndsWith(suffix, StringComparison.Ordinal)).Content)!.AsObject();

    /// <summary>
    /// The stored schemas are the detection-rules repository's rule schema (draft-04, whose keywords here mean the same in
    /// draft-07, which the validator implements). The import API carries new terms as two top-level fields; the rule
    /// file folds them into one object, so the test folds them the same way before validating. (The stored schema
    /// drops history_window_start's value: it is checked apart.)
    /// </summary>
    private static JsonObject AsRuleFile(JsonObject rule)
    {
        var copy = rule.DeepClone().AsObject();
        if (copy["new_terms_fields"] is JsonArray fields)
        {
            Assert.Matches(@"^now-\d+d$", (string)copy["history_window_start"]!);
            copy.Remove("new_terms_fields");
            copy.Remove("history_window_start");
            copy["new_terms"] = new JsonObject
            {
                ["field"] = "new_terms_fields",
                ["value"] = fields.DeepClone(),
                ["history_window_start"] = new JsonArray(new JsonObject { ["field"] = "history_window_start" }),
            };
        }
        return copy;
    }

    [SchemaFact]
    public void Every_elastic_rule_is_valid_against_the_detection_rules_schemas()
    {
        var failures = new List<string>();
        foreach (var rule in Rules())
        {
            var type = (string)rule["type"]!;
            var schema = ExportFixtures.Schema($"elastic-detection-rules/master.{type}.json", asDialect: "http://json-schema.org/draft-07/schema#");
            failures.AddRange(ExportFixtures.Validate(schema, AsRuleFile(rule)).Select(e => $"{rule["name"]}: {e}"));
        }
        Assert.Empty(failures);
        Assert.Equal(["eql", "esql", "machine_learning", "new_terms", "query"], Rules().Select(r => (string)r["type"]!).Distinct().Order());
    }

    [SchemaFact]
    public void The_elastic_schema_check_rejects_a_rule_that_breaks_it()
    {
        var schema = ExportFixtures.Schema("elastic-detection-rules/master.eql.json", asDialect: "http://json-schema.org/draft-07/schema#");
        var rule = Rules().First(r => (string)r["type"]! == "eql");
        rule["severity"] = "severe";
        rule["unknown_field"] = 1;
        Assert.True(ExportFixtures.Validate(schema, rule).Count >= 2);
    }

    [Fact]
    public void Every_rule_runs_as_the_seed_rule_does_with_the_mitre_mapping()
    {
        foreach (var rule in Rules())
        {
            Assert.Equal("15m", (string)rule["interval"]!);
            Assert.StartsWith("now-", (string)rule["from"]!);
            Assert.Equal(100, (int)rule["max_signals"]!);
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", (string)rule["rule_id"]!);
            var threat = rule["threat"]![0]!;
            Assert.Equal("TA0006", (string)threat["tactic"]!["id"]!);
            Assert.Equal("T1552.005", (string)threat["technique"]![0]!["subtechnique"]![0]!["id"]!);
        }
        Assert.Equal("now-45m", (string)Rules().First()["from"]!);
        Assert.Equal(Rules().Count, Rules().Select(r => (string)r["rule_id"]!).Distinct().Count());
    }

    [Fact]
    public void The_ml_rule_uses_the_per_host_job_at_threshold_75_and_risk_21()
    {
        var ml = Rules().Single(r => (string)r["type"]! == "machine_learning");
        Assert.Equal(75, (int)ml["anomaly_threshold"]!);
        Assert.Equal(21, (int)ml["risk_score"]!);
        Assert.Equal("low", (string)ml["severity"]!);
        var job = File(".job.json");
        Assert.Equal((string)ml["machine_learning_job_id"]!, (string)job["job_id"]!);
        var detector = job["analysis_config"]!["detectors"]![0]!;
        Assert.Equal("rare", (string)detector["function"]!);
        Assert.Equal("user.name", (string)detector["by_field_name"]!);
        Assert.Equal("host.id", (string)detector["partition_field_name"]!);
        Assert.Equal("15m", (string)job["analysis_config"]!["bucket_span"]!);
        var feed = File("datafeed-" + ElasticExporter.JobId + ".json");
        Assert.Equal((string)job["job_id"]!, (string)feed["job_id"]!);
        var addresses = feed["query"]!["bool"]!["filter"]![0]!["terms"]!["destination.ip"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Contains("169.254.169.254", addresses);
        Assert.Contains("fd00:ec2::23", addresses);
        Assert.Contains("169.254.170.23", addresses);
    }

    [Fact]
    public void Network_rules_are_new_terms_per_host_and_agents_are_excluded_by_path()
    {
        var newTerms = Rules().Where(r => (string)r["type"]! == "new_terms").ToList();
        Assert.Equal(2, newTerms.Count);
        Assert.All(newTerms, r => Assert.Equal("host.id", (string)r["new_terms_fields"]![0]!));
        Assert.Equal(["process.executable", "user.name"], newTerms.Select(r => (string)r["new_terms_fields"]![1]!).Order());
        Assert.All(newTerms, r => Assert.Contains("not process.executable:(/usr/bin/cloud-init or /usr/lib/cloud-init/*", (string)r["query"]!));
        var eql = Rules().First(r => (string)r["type"]! == "eql");
        Assert.Contains("not process.executable : (\"/usr/bin/cloud-init\"", (string)eql["query"]!);
        Assert.DoesNotContain("process.name : (\"amazon-ssm-agent\"", (string)eql["query"]!);
    }
}
