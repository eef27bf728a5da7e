using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImdsWatch.Detection;
using ImdsWatch.Export;
using ImdsWatch.Indicators;

namespace ImdsWatch.Tests.Export;

public sealed class SigmaExportTests
{
    [SchemaFact]
    public void Every_sigma_rule_is_valid_against_the_official_schema()
    {
        var detection = ExportFixtures.Schema("sigma/sigma-detection-rule-schema.json");
        var correlation = ExportFixtures.Schema("sigma/sigma-correlation-rules-schema.json");
        var failures = new List<string>();
        foreach (var file in ExportFixtures.Sigma)
        {
            var json = ExportFixtures.YamlToJson(file.Content);
            var schema = json["correlation"] is null ? detection : correlation;
            failures.AddRange(ExportFixtures.Validate(schema, json).Select(e => $"{file.Path}: {e}"));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(ExportFixtures.Sigma.Count >= 16);
    }

    [SchemaFact]
    public void The_schema_check_rejects_a_rule_that_breaks_it()
    {
        var detection = ExportFixtures.Schema("sigma/sigma-detection-rule-schema.json");
        var json = ExportFixtures.YamlToJson(ExportFixtures.SigmaDetectionRules.First().Content).AsObject();
        json["level"] = "severe";
        json["id"] = "not-a-uuid";
        var errors = ExportFixtures.Validate(detection, json);
        Assert.Contains(errors, e => e.Contains("/level", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("/id", StringComparison.Ordinal));
    }

    [Fact]
    public void Sigma_rules_follow_the_SigmaHQ_conventions()
    {
        var prefixes = new Dictionary<string, string>
        {
            ["rules/linux/auditd/"] = "lnx_auditd_",
            ["rules/linux/process_creation/"] = "proc_creation_lnx_",
            ["rules/linux/network_connection/"] = "net_connection_lnx_",
            ["rules/web/webserver_generic/"] = "web_",
            ["rules/web/proxy_generic/"] = "proxy_",
            ["rules/cloud/aws/cloudtrail/"] = "aws_cloudtrail_",
        };
        foreach (var file in ExportFixtures.Sigma)
        {
            var folder = prefixes.Keys.Single(f => file.Path.StartsWith(f, StringComparison.Ordinal));
            var name = Path.GetFileName(file.Path);
            var json = ExportFixtures.YamlToJson(file.Content);
            var correlation = json["correlation"] is not null;
            Assert.EndsWith(".yml", name);
            Assert.Matches("^[a-z0-9_]+\\.yml$", name);
            if (!correlation)
                Assert.StartsWith(prefixes[folder], name);
            var title = (string)json["title"]!;
            Assert.All(title.Split(' '), w => Assert.True(char.IsUpper(w[0]) || !char.IsLetter(w[0]), $"{name}: title word '{w}' is not title case"));
            Assert.StartsWith("Detects", (string)json["description"]!);
            Assert.Equal("experimental", (string)json["status"]!);
            Assert.Equal(StableId.For(Path.GetFileNameWithoutExtension(name)), (string)json["id"]!);
            Assert.Contains((string)json["level"]!, new[] { "low", "medium", "high", "critical" });
            Assert.NotEmpty(json["falsepositives"]!.AsArray());
            Assert.DoesNotContain(file.Content.Split('\n'), l => l.Length - l.TrimStart(' ').Length is var n && n % 4 != 0);
            Assert.DoesNotContain("attack.mitre.org", file.Content);
            if (!correlation)
            {
                Assert.Contains("attack.t1552.005", json["tags"]!.AsArray().Select(t => (string)t!));
                Assert.NotNull(json["date"]);
                Assert.NotNull(json["author"]);
            }
        }
        Assert.Equal(ExportFixtures.Sigma.Count, ExportFixtures.Sigma.Select(f => ExportFixtures.YamlToJson(f.Content)["id"]!.ToString()).Distinct().Count());
    }

    [Fact]
    public void Rule_ids_are_uuid_version_5_and_the_same_on_every_run()
    {
        // RFC 9562 appendix A.4: UUIDv5 of "www.example.com" in the DNS namespace.
        Assert.Equal("2ed6657d-e927-568b-95e1-2665a8aea6a2", StableId.For(Convert.FromHexString("6ba7b8109dad11d180b400c04fd430c8"), "www.example.com"));
        var again = RuleExport.Generate(ExportTarget.Sigma, DetectionRules.Default);
        Assert.Equal(ExportFixtures.Sigma, again);
    }

    [Fact]
    public void Every_obfuscated_spelling_denotes_its_catalog_address()
    {
        var model = ExportModel.From(DetectionRules.Default);
        foreach (var address in model.IPv4)
        {
            foreach (var spelling in SpellingVariants.ObfuscatedIPv4(address))
            {
                IPAddress? parsed = AddressSpelling.TryParseIPv4(spelling, out var v) ? AddressSpelling.FromUInt32(v)
                    : IPAddress.TryParse(spelling, out var ip) ? AddressSpelling.Fold(ip) : null;
                Assert.True(address.Equals(parsed), $"{spelling} is not {address}");
                Assert.NotEqual(address.ToString(), spelling);
            }
        }
        foreach (var address in model.IPv6)
            Assert.All(SpellingVariants.LongIPv6(address), s => Assert.Equal(address, IPAddress.Parse(s)));
    }

    [Fact]
    public void Hex_keywords_are_the_kernel_encoding_of_the_text_keywords()
    {
        var rule = ExportFixtures.Sigma.Single(f => f.Path.EndsWith("lnx_auditd_imds_metadata_endpoint_execve.yml", StringComparison.Ordinal));
        var json = ExportFixtures.YamlToJson(rule.Content)["detection"]!;
        var text = json["keywords_text"]!.AsArray().Select(k => ((string)k!).Trim('*')).ToList();
        var hex = json["keywords_hex"]!.AsArray().Select(k => ((string)k!).Trim('*')).ToHashSet();
        Assert.All(text, t => Assert.Contains(Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(t)), hex));
        Assert.Contains("3136392E3235342E3136392E323534", hex); // 169.254.169.254
    }

    [Fact]
    public void A_metadata_url_run_through_sh_c_matches_only_through_its_hex_form()
    {
        // What the kernel logs for: sh -c "curl http://169.254.169.254/latest/meta-data/" (the argument holds spaces and quotes)
        var script = "curl http://169.254.169.254/latest/meta-data/";
        var hex = Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(script));
        var raw = $"type=EXECVE msg=audit(1700000000.000:42): argc=3 a0=\"sh\" a1=\"-c\" a2={hex}";
        var e = new SigmaEvent(new Dictionary<string, List<string>> { ["type"] = ["EXECVE"], ["a0"] = ["sh"], ["a1"] = ["-c"], ["a2"] = [hex] }, raw);
        var rule = SigmaEvaluator.Parse("endpoint", ExportFixtures.Sigma.Single(f => f.Path.EndsWith("lnx_auditd_imds_metadata_endpoint_execve.yml", StringComparison.Ordinal)).Content);
        Assert.True(rule.Matches(e));
        Assert.DoesNotContain("169.254.169.254", raw);
        var grep = e with { Fields = new Dictionary<string, List<string>>(e.Fields) { ["a0"] = ["grep"] } };
        Assert.False(rule.Matches(grep));
    }

    [Fact]
    public void Adding_an_endpoint_or_an_agent_to_the_catalogs_changes_every_export()
    {
        var catalog = IndicatorCatalog.Load("""
            endpoints:
              - { id: corp-imds-proxy, name: Metadata proxy, providers: [aws], addresses: ["10.9.8.254"], hostnames: [imds.corp.example] }
            """, extend: IndicatorCatalog.Default);
        var agents = AgentAllowList.Default.With([new AgentRule("acme-inventory", ["/opt/acme/bin/inventory"], [], false)], replace: false);
        var rules = new DetectionRules(catalog, ProgramCatalog.Default, agents);
        string All(ExportTarget t) => string.Concat(RuleExport.Generate(t, rules).Select(f => f.Content));
        string Before(ExportTarget t) => string.Concat(RuleExport.Generate(t, DetectionRules.Default).Select(f => f.Content));
        foreach (var target in Enum.GetValues<ExportTarget>())
        {
            var after = All(target);
            Assert.DoesNotContain("10.9.8.254", Before(target));
            Assert.Contains(target == ExportTarget.Splunk ? @"10\.9\.8\.254" : "10.9.8.254", after);
            Assert.Contains(target == ExportTarget.Splunk ? @"imds\.corp\.example" : "imds.corp.example", after);
            Assert.Contains("/opt/acme/bin/inventory", after);
        }
        var sigma = All(ExportTarget.Sigma);
        Assert.Contains("'10.9.8.254/32'", sigma);                 // network_connection cidr
        Assert.Contains("0A0908FE", sigma);                        // SOCKADDR hex
        Assert.Contains("*31302E392E382E323534*", sigma);          // EXECVE hex of the text
        Assert.Contains("'168364286'", sigma.Replace("*", "", StringComparison.Ordinal)); // its decimal spelling
    }

    [Fact]
    public void Severity_levels_come_from_the_engine_risk_model()
    {
        string Level(string file) => (string)ExportFixtures.YamlToJson(ExportFixtures.Sigma.Single(f => f.Path.EndsWith(file + ".yml", StringComparison.Ordinal)).Content)["level"]!;
        Assert.Equal("high", Level("lnx_auditd_imds_credentials_path_execve"));     // 70 credentials + 10 fetch tool
        Assert.Equal("medium", Level("lnx_auditd_imds_metadata_endpoint_execve"));  // 35 + 10
        Assert.Equal("low", Level("lnx_auditd_imds_sockaddr_metadata_address"));    // 21 bare connect
        Assert.Equal("medium", Level("net_connection_lnx_imds_web_server_to_metadata_address")); // 21 + 25 web server
        Assert.Equal("critical", Level("web_imds_ssrf_credentials_answered"));      // 60 + 25 answered
    }
}
