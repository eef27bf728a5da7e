using ImdsWatch.Alerts;
using ImdsWatch.Cli.Validation;
using ImdsWatch.Pipeline;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Cli;

/// <summary>
/// The bundled samples are kernel captures made by imdswatch validate (RAW and ENRICHED). Judged again with
/// the same expectations, every built-in test passes on them: the end-to-end check that needs no root.
/// </summary>
public sealed class SampleTests
{
    public static TheoryData<string> Captures() => new() { "audit-enriched.log", "audit-raw.log.gz" };

    [Theory]
    [MemberData(nameof(Captures))]
    public void Every_built_in_test_passes_on_the_bundled_capture(string capture)
    {
        var path = Path.Combine(Repo.Samples, capture);
        var verdicts = CaptureJudge.Judge(path, ValidationTest.BuiltIn());
        Assert.All(verdicts, v => Assert.True(v.Outcome == Outcome.Pass, $"{v.Test.Id}: {v.Reason}"));
        Assert.Equal(ValidationTest.BuiltIn().Count, verdicts.Count);
    }

    [Fact]
    public void The_nginx_sample_made_by_a_real_ssrf_shows_answered_and_failed_attempts()
    {
        var result = new ImdsWatch.Pipeline.DetectionPipeline(ImdsWatch.Detection.DetectionRules.Default).Scan(
            [new ImdsWatch.Sources.Input.InputSource("access.log", Path.Combine(Repo.Samples, "web", "access.log"))]);
        var alert = Assert.Single(result.Alerts);
        Assert.Equal(AlertType.MetadataSSRFAttempt, alert.AlertType);
        Assert.Contains("answered", alert.Tags);
        Assert.Equal(5, alert.Evidence.Count);
        Assert.Equal(ImdsWatch.Indicators.AccessClass.Credentials, alert.Access);
    }

    [Fact]
    public void The_rsyslog_sample_carries_relayed_kernel_records_and_agent_lines_stay_silent()
    {
        var result = new ImdsWatch.Pipeline.DetectionPipeline(ImdsWatch.Detection.DetectionRules.Default).Scan(
            [new ImdsWatch.Sources.Input.InputSource("syslog", Path.Combine(Repo.Samples, "syslog", "syslog"))]);
        Assert.Contains(result.Alerts, a => a.AlertType == AlertType.MetadataAPIProcess && a.Layers.Contains(Layer.Network) && a.Tags.Contains("evasion:numericspelling"));
        var mention = Assert.Single(result.Alerts, a => a.Layers.Contains(Layer.Syslog));
        Assert.Equal("myapp", mention.Process.Name);
        Assert.Equal(2, result.Detection.AllowedByAgent["syslog lines of agents"]);
        Assert.Empty(result.Issues);
    }

    [Fact]
    public void Scanning_the_samples_folder_finds_both_captures_and_skips_the_rest()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, ImdsWatch.Cli.Program.Run(["scan", Repo.Samples, "--format", "ndjson"], stdout, stderr));
        Assert.Contains("4 file(s)", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("formats: 2 auditd, 1 syslog, 1 webaccess", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("skipped", stderr.ToString(), StringComparison.Ordinal);
        Assert.True(stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 50);
    }
}
