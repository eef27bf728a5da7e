using System.Text.RegularExpressions;
using ImdsWatch.Config;
using ImdsWatch.Sinks;
using ImdsWatch.Tests.Sinks;

namespace ImdsWatch.Tests.Agent;

public sealed class AgentConfigTests
{
    private static string Snake(string name) => Regex.Replace(name, "(?<=[a-z0-9])([A-Z])", "_$1").ToLowerInvariant();

    [Fact]
    public void The_schema_knows_every_key_of_the_sinks_and_agent_sections()
    {
        var sections = ConfigSchema.Sections();
        Assert.Equal(typeof(ImdsWatchConfig.SinkEntry).GetProperties().Select(p => Snake(p.Name)).Order(StringComparer.Ordinal), sections["sinks"].Order(StringComparer.Ordinal));
        Assert.Equal(typeof(ImdsWatchConfig.AgentSection).GetProperties().Select(p => Snake(p.Name)).Order(StringComparer.Ordinal), sections["agent"].Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Sinks_from_the_file_and_the_command_line_get_their_options_and_unique_names()
    {
        using var dir = new TestAlerts.TempDir();
        var path = Path.Combine(dir.Path, "agent.yaml");
        File.WriteAllText(path, """
            min_severity: medium
            agent:
              window_seconds: 1.5
            sinks:
              - type: hec
                url: https://splunk.example:8088
                token: abc
                index: security
                min_severity: high
              - type: webhook
                url: http://127.0.0.1:9/a
                headers: { X-Team: soc }
                timeout_seconds: 3
                format: ndjson
                batch_size: 50
                batch_max_mb: 0.5
                linger_ms: 20
            """);
        var config = ImdsWatchConfig.Load(path);
        var sinks = SinkConfig.FromConfig(config, ["webhook=http://127.0.0.1:9/b", "file=/tmp/x.ndjson"]);
        Assert.Equal(["hec", "webhook", "webhook-2", "file"], sinks.Select(s => s.Name));
        Assert.Equal(ImdsWatch.Alerts.Severity.High, sinks[0].MinimumSeverity);
        Assert.Equal("abc", sinks[0].Token);
        Assert.Equal(ImdsWatch.Alerts.Severity.Medium, sinks[2].MinimumSeverity);
        Assert.Equal("soc", sinks[1].Headers["X-Team"]);
        Assert.Equal(TimeSpan.FromSeconds(3), sinks[1].Timeout);
        Assert.Equal(1.5, config.Agent.WindowSeconds);
        Assert.Equal((500, 1L << 20, TimeSpan.FromMilliseconds(100), WebhookFormat.Array), (sinks[0].BatchSize, sinks[0].BatchMaxBytes, sinks[0].Linger, sinks[0].WebhookFormat));
        Assert.Equal((50, 1L << 19, TimeSpan.FromMilliseconds(20), WebhookFormat.Ndjson), (sinks[1].BatchSize, sinks[1].BatchMaxBytes, sinks[1].Linger, sinks[1].WebhookFormat));
    }

    [Theory]
    [InlineData("type: webhook\n    url: http://127.0.0.1/a\n    format: xml", "not a webhook format")]
    [InlineData("type: hec\n    url: http://127.0.0.1/a\n    token: t\n    format: ndjson", "only a webhook sink takes a format")]
    [InlineData("type: webhook\n    url: http://127.0.0.1/a\n    linger_ms: -1", "linger_ms")]
    [InlineData("type: webhook\n    url: http://127.0.0.1/a\n    batch_max_mb: 0", "batch_max_mb")]
    public void Bad_batching_options_are_refused_with_a_reason(string sink, string reason)
    {
        using var dir = new TestAlerts.TempDir();
        var path = Path.Combine(dir.Path, "agent.yaml");
        File.WriteAllText(path, "sinks:\n  - " + sink + "\n");
        var e = Assert.Throws<InvalidDataException>(() => SinkConfig.FromConfig(ImdsWatchConfig.Load(path), []));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mistyped_sink_key_is_reported_with_the_closest_valid_one()
    {
        using var dir = new TestAlerts.TempDir();
        var path = Path.Combine(dir.Path, "agent.yaml");
        File.WriteAllText(path, "sinks:\n  - type: webhook\n    urll: http://127.0.0.1/a\n");
        var e = Assert.Throws<InvalidDataException>(() => ImdsWatchConfig.Load(path));
        Assert.Contains("did you mean 'sinks.url'", e.Message, StringComparison.Ordinal);
    }
}
