using ImdsWatch.Cli.Validation;
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
    public void Scanning_the_samples_folder_finds_both_captures_and_skips_the_rest()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, ImdsWatch.Cli.Program.Run(["scan", Repo.Samples, "--format", "ndjson"], stdout, stderr));
        Assert.Contains("2 file(s)", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("skipped", stderr.ToString(), StringComparison.Ordinal);
        Assert.True(stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 50);
    }
}
