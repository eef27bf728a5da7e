using ImdsWatch.Cli;
using ImdsWatch.Config;
using ImdsWatch.Sinks;

namespace ImdsWatch.Tests.Sinks;

/// <summary>A mistake in a <c>sinks:</c> entry is reported at its file and line, as every other configuration mistake is.</summary>
public sealed class SinkConfigPlaceTests : IDisposable
{
    private readonly TestAlerts.TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir.Path, "agent.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static string Refusal(string path) =>
        Assert.Throws<InvalidDataException>(() => SinkConfig.FromConfig(ImdsWatchConfig.Load(path), [])).Message;

    private static string TwoSinks(string setting) => $"""
        host: web-1
        sinks:
          - type: file
            path: /var/log/imdswatch/alerts.ndjson
          - type: webhook
            url: http://127.0.0.1:9/hook
            {setting}
        """;

    [Theory]
    [InlineData("format: objec", 7, "sinks[1].format: 'objec' is not a webhook format (array, ndjson, object)")]
    [InlineData("batch_size: 0", 7, "sinks[1].batch_size: must be positive (got 0)")]
    [InlineData("timeout_seconds: -2.5", 7, "sinks[1].timeout_seconds: must be positive (got -2.5)")]
    [InlineData("spool_max_mb: 0", 7, "sinks[1].spool_max_mb: must be positive (got 0)")]
    [InlineData("retries: -1", 7, "sinks[1].retries: must be 0 or more (got -1)")]
    [InlineData("linger_ms: 20000", 7, "sinks[1].linger_ms: must be between 0 and 10000")]
    [InlineData("min_severity: urgent", 7, "sinks[1].min_severity: ")]
    [InlineData("url: ftp://127.0.0.1/x", 6, "sinks[1]: 'ftp://127.0.0.1/x' is not an http:// or https:// URL")]
    public void A_bad_sink_setting_is_reported_at_its_line(string setting, int line, string message)
    {
        var yaml = TwoSinks(setting);
        if (setting.StartsWith("url:", StringComparison.Ordinal))
            yaml = yaml.Replace("    url: http://127.0.0.1:9/hook\n", "", StringComparison.Ordinal);
        var path = Write(yaml);

        Assert.StartsWith($"{path}:{line}: {message}", Refusal(path), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sink_without_its_url_is_reported_at_the_line_of_its_entry()
    {
        var path = Write("sinks:\n  - type: file\n    path: /tmp/x\n  - type: hec\n    token: abc\n");

        Assert.Equal($"{path}:4: sinks[1] (hec): url: is required", Refusal(path));
    }

    [Fact]
    public void The_agent_check_prints_the_place_and_exits_2()
    {
        var path = Write(TwoSinks("format: objec"));
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = Program.Run(["agent", "--check", "--config", path], stdout, stderr);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"{path}:7: sinks[1].format: 'objec' is not a webhook format", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Sinks_given_on_the_command_line_name_the_flag_not_a_file()
    {
        var e = Assert.Throws<InvalidDataException>(() => SinkConfig.FromConfig(new ImdsWatchConfig(), ["webhook=ftp://x"]));

        Assert.StartsWith("--sink webhook=ftp://x: ", e.Message, StringComparison.Ordinal);
    }
}
