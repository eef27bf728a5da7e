using System.Text.RegularExpressions;
using ImdsWatch.Config;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Config;

public sealed class ConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        var path = Path.Combine(_dir, $"config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    private InvalidDataException Rejected(string text) => Assert.Throws<InvalidDataException>(() => ImdsWatchConfig.Load(Write(text)));

    public static TheoryData<string> DocumentedExamples()
    {
        var data = new TheoryData<string>();
        foreach (var doc in new[] { "README.md", Path.Combine("docs", "configuration.md") }.Select(d => Path.Combine(Repo.Root, d)).Where(File.Exists))
        {
            foreach (Match m in Regex.Matches(File.ReadAllText(doc), "```yaml\n(.*?)```", RegexOptions.Singleline))
                data.Add(m.Groups[1].Value);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DocumentedExamples))]
    public void Every_configuration_example_in_the_docs_loads(string yaml)
    {
        var config = ImdsWatchConfig.Load(Write(yaml));
        Assert.NotNull(config.BuildRules());
    }

    [Fact]
    public void Indicators_from_the_configuration_extend_the_catalog()
    {
        var config = ImdsWatchConfig.Load(Write("indicators:\n  endpoints:\n    - { id: corp-proxy-imds, name: Metadata proxy, providers: [aws], addresses: [\"10.0.0.254\"] }\n"));
        Assert.NotNull(config.BuildRules().Catalog.MatchAddress(System.Net.IPAddress.Parse("10.0.0.254")));
    }

    [Fact]
    public void The_documentation_has_configuration_examples() => Assert.True(DocumentedExamples().Count >= 2);

    [Fact]
    public void The_cloudtrail_section_is_read()
    {
        var config = ImdsWatchConfig.Load(Write("cloudtrail:\n  trusted_cidrs: [203.0.113.0/24]\n  instance_addresses: { i-0abc1234567890def: [54.10.20.30] }\n"));
        var options = config.CloudTrailOptions();
        Assert.Single(options.TrustedNetworks);
        Assert.Single(options.InstanceAddresses["i-0abc1234567890def"]);
    }

    [Fact]
    public void An_unknown_key_is_named_with_its_line_and_the_closest_valid_key()
    {
        var e = Rejected("host: web-1\nmin_severty: high\n");
        Assert.Contains(":2: unknown key 'min_severty'; did you mean 'min_severity'?", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ImdsWatch.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_old_spelling_of_the_cloudtrail_section_points_to_the_new_one()
    {
        var e = Rejected("cloud_trail:\n  trusted_cidrs: []\n");
        Assert.Contains("did you mean 'cloudtrail'?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_nested_unknown_key_is_named_with_its_section()
    {
        var e = Rejected("anomaly:\n  user_treshold: 80\n");
        Assert.Contains(":2: unknown key 'anomaly.user_treshold'; did you mean 'anomaly.user_threshold'?", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("anomaly:\n  user_threshold: seventy\n", ":2: anomaly.user_threshold: 'seventy' is not a whole number")]
    [InlineData("agents:\n  add: acme\n", ":2: agents.add: expected a list, found 'acme'")]
    [InlineData("programs:\n  fetch_tools: curl\n", ":2: programs.fetch_tools: expected a list of text values")]
    [InlineData("min_severity: severe\n", "min_severity: 'severe' is not one of low, medium, high, critical")]
    [InlineData("cloudtrail:\n  trusted_cidrs: [not-a-cidr]\n", "cloudtrail.trusted_cidrs: 'not-a-cidr' is not a CIDR block")]
    public void A_value_of_the_wrong_kind_is_named_with_its_key_and_what_was_expected(string yaml, string expected)
    {
        var e = Rejected(yaml);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Severity_names_are_read_in_any_case()
    {
        Assert.Equal(ImdsWatch.Alerts.Severity.High, ImdsWatchConfig.Load(Write("min_severity: HIGH\n")).MinimumSeverity);
    }

    [Fact]
    public void The_schema_knows_every_property_of_the_configuration_classes()
    {
        static string Snake(string name) => Regex.Replace(name, "(?<=[a-z0-9])([A-Z])", "_$1").ToLowerInvariant();
        var sections = ConfigSchema.Sections();
        var top = typeof(ImdsWatchConfig).GetProperties().Select(p => p.Name == "CloudTrail" ? "cloudtrail" : Snake(p.Name))
            .Where(n => n != "minimum_severity").Order(StringComparer.Ordinal);
        Assert.Equal(top, sections[""].Order(StringComparer.Ordinal));
        foreach (var (section, type) in new[] { ("agents", typeof(ImdsWatchConfig.AgentsSection)), ("indicators", typeof(ImdsWatchConfig.IndicatorsSection)),
                     ("programs", typeof(ImdsWatchConfig.ProgramsSection)), ("anomaly", typeof(ImdsWatchConfig.AnomalySection)),
                     ("cloudtrail", typeof(ImdsWatchConfig.CloudTrailSection)), ("agents.add", typeof(ImdsWatchConfig.AgentEntry)),
                     ("indicators.endpoints", typeof(ImdsWatch.Indicators.IndicatorCatalog.EndpointDoc)), ("indicators.paths", typeof(ImdsWatch.Indicators.IndicatorCatalog.PathDoc)),
                     ("indicators.headers", typeof(ImdsWatch.Indicators.IndicatorCatalog.HeaderDoc)) })
            Assert.Equal(type.GetProperties().Select(p => Snake(p.Name)).Order(StringComparer.Ordinal), sections[section].Order(StringComparer.Ordinal));
    }
}
