using System.Text.RegularExpressions;
using ImdsWatch.Export;

namespace ImdsWatch.Tests.Export;

public sealed class SplunkExportTests
{
    /// <summary>A .conf file as Splunk reads it: [stanza] headers, key = value lines, a trailing backslash continues a value.</summary>
    internal static List<(string Name, List<(string Key, string Value)> Settings)> ParseConf(string text)
    {
        var stanzas = new List<(string, List<(string, string)>)>();
        List<(string, string)>? current = null;
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            if (line.StartsWith('['))
            {
                Assert.EndsWith("]", line);
                current = [];
                stanzas.Add((line[1..^1], current));
                continue;
            }
            Assert.NotNull(current);
            var eq = line.IndexOf(" = ", StringComparison.Ordinal);
            Assert.True(eq > 0, $"line {i + 1} is no key = value: {line}");
            var value = line[(eq + 3)..];
            while (value.EndsWith('\\'))
                value = value[..^1] + "\n" + lines[++i];
            current!.Add((line[..eq], value));
        }
        return stanzas;
    }

    private static string Conf(string name) => ExportFixtures.Splunk.Single(f => f.Path.EndsWith(name, StringComparison.Ordinal)).Content;

    [Fact]
    public void The_app_folder_has_what_splunk_needs_to_load_it()
    {
        Assert.Equal(
            ["default/app.conf", "default/macros.conf", "default/savedsearches.conf", "default/transforms.conf", "lookups/imdswatch_user_baseline.csv", "metadata/default.meta"],
            ExportFixtures.Splunk.Select(f => f.Path[(SplunkExporter.App.Length + 1)..]).Order());
        var app = ParseConf(Conf("app.conf"));
        Assert.Equal(["install", "ui", "launcher", "package"], app.Select(s => s.Name));
        Assert.Contains(app.Single(s => s.Name == "package").Settings, kv => kv == ("id", SplunkExporter.App));
    }

    [Fact]
    public void Every_saved_search_has_one_search_and_runs_as_the_seed_rule()
    {
        var searches = ParseConf(Conf("savedsearches.conf"));
        Assert.True(searches.Count >= 8);
        foreach (var (name, settings) in searches)
        {
            Assert.Single(settings, kv => kv.Key == "search");
            Assert.Equal(settings.Count, settings.Select(kv => kv.Key).Distinct().Count());
            var search = settings.Single(kv => kv.Key == "search").Value;
            Assert.Equal(0, search.Count(c => c == '`') % 2);
            Assert.Equal(search.Count(c => c == '('), search.Count(c => c == ')'));
            if (settings.Any(kv => kv == ("enableSched", "0")))
                continue;
            Assert.Contains(("cron_schedule", "*/15 * * * *"), settings);
            Assert.Contains(("dispatch.earliest_time", "-45m@m"), settings);
            Assert.Contains(("action.correlationsearch.enabled", "1"), settings);
            Assert.Contains(("action.notable", "1"), settings);
            Assert.Contains(("action.risk", "1"), settings);
            Assert.Matches("AlertType=\"(MetadataAPIProcess|MetadataAPINetwork|MetadataCredentialsUsed|InstanceCredentialExfiltration|IMDSv1CredentialDelivery)\"", search);
            Assert.Contains(settings, kv => kv.Key == "action.risk.param._risk" && kv.Value.Contains("\"risk_score\": ", StringComparison.Ordinal));
        }
        var layers = searches.Select(s => s.Name).ToList();
        Assert.Contains(layers, n => n.Contains("MetadataAPIProcess", StringComparison.Ordinal));
        Assert.Contains(layers, n => n.Contains("syslog", StringComparison.Ordinal));
        Assert.Contains(layers, n => n.Contains("MetadataCredentialsUsed", StringComparison.Ordinal));
        Assert.Contains(layers, n => n.Contains("unusual user", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_macro_a_search_uses_is_defined_and_its_regex_compiles()
    {
        var macros = ParseConf(Conf("macros.conf")).ToDictionary(s => s.Name, s => s.Settings);
        foreach (var (_, settings) in ParseConf(Conf("savedsearches.conf")))
        {
            var search = settings.Single(kv => kv.Key == "search").Value;
            foreach (Match used in Regex.Matches(search, "`([a-z_]+)(\\([^`]*\\))?`"))
            {
                var name = used.Groups[1].Value + (used.Groups[2].Success ? "(1)" : "");
                Assert.True(macros.ContainsKey(name.Replace("(1)", "", StringComparison.Ordinal)), $"macro {name} is not defined");
            }
        }
        foreach (var (name, settings) in macros.Where(m => m.Key.EndsWith("_regex", StringComparison.Ordinal)))
        {
            var definition = settings.Single(kv => kv.Key == "definition").Value;
            Assert.StartsWith("\"", definition);
            var pattern = definition[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal);
            _ = new Regex(pattern.Replace("(?i)", "", StringComparison.Ordinal), RegexOptions.IgnoreCase);
        }
    }

    [Fact]
    public void The_records_of_one_event_are_joined_by_their_audit_id_and_hex_arguments_decoded()
    {
        var search = ParseConf(Conf("savedsearches.conf")).First(s => s.Name.Contains("MetadataAPIProcess", StringComparison.Ordinal)).Settings.Single(kv => kv.Key == "search").Value;
        Assert.Contains("`imdswatch_audit_id`", search);
        Assert.Contains("`imdswatch_decode_args`", search);
        Assert.Contains("by host imds_audit_id", search);
        Assert.Contains("NOT match(exe, `imdswatch_agent_exe_regex`)", search);
        var macros = Conf("macros.conf");
        Assert.Contains("urldecode(replace(imds_arg, \"([0-9A-F]{2})\", \"%\\1\"))", macros);
    }

    [Fact]
    public void The_saddr_regex_matches_the_kernel_records_of_metadata_connections()
    {
        var definition = ParseConf(Conf("macros.conf")).Single(s => s.Name == "imdswatch_saddr_regex").Settings.Single(kv => kv.Key == "definition").Value;
        var regex = new Regex(definition[1..^1]);
        Assert.Matches(regex, "02000050A9FEA9FE0000000000000000");               // 169.254.169.254:80
        Assert.Matches(regex, "0A0000500000000000000000000000000000FFFFA9FEA9FE00000000"); // ::ffff:169.254.169.254
        Assert.Matches(regex, "0A00005000000000FD000EC200000000000000000000025400000000");      // fd00:ec2::254
        Assert.DoesNotMatch(regex, "020000357F0000350000000000000000");            // 127.0.0.53:53
    }

    [Fact]
    public void The_rarity_search_keeps_a_per_host_baseline_in_its_lookup()
    {
        var rarity = ParseConf(Conf("savedsearches.conf")).Single(s => s.Name.Contains("unusual user", StringComparison.Ordinal)).Settings.Single(kv => kv.Key == "search").Value;
        Assert.Contains($"inputlookup {SplunkExporter.BaselineLookup}", rarity);
        Assert.Contains($"outputlookup {SplunkExporter.BaselineLookup}", rarity);
        Assert.Contains("by host user", rarity);
        Assert.Contains("-7d", rarity);
        Assert.Contains(ParseConf(Conf("transforms.conf")), s => s.Name == SplunkExporter.BaselineLookup);
        Assert.StartsWith("host,user,first_seen,last_seen,count", Conf($"{SplunkExporter.BaselineLookup}.csv"));
    }
}
