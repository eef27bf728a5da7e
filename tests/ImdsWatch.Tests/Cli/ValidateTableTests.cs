using ImdsWatch.Alerts.Output;
using ImdsWatch.Cli.Commands;
using ImdsWatch.Cli.Validation;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;
using Spectre.Console;

namespace ImdsWatch.Tests.Cli;

public sealed class ValidateTableTests
{
    private static IReadOnlyList<TestVerdict> Verdicts()
    {
        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        var alerts = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]).Alerts;
        var observed = new[] { "4 exec(s) in all", "EXECVE curl (uid 0) ×2", "connect curl → 169.254.169.254:80 (inprogress) ×2" };
        return
        [
            new(new ValidationTest { Id = "aws-imdsv1-credentials", Title = "Query AWS Instance Metadata for IAM Credentials (seed test 1)" },
                Outcome.Pass, "", observed, [alerts[0], alerts[1]], 0, ""),
            new(new ValidationTest { Id = "gcp-service-account-token-with-a-long-name", Title = "GCP" },
                Outcome.Fail, "expected MetadataAPIProcess credentials from curl, got nothing: the capture has no EXECVE for curl at all, see the kept log", [], [], 7, ""),
            new(new ValidationTest { Id = "ipv6-link-local", Title = "IPv6" }, Outcome.Skip, "needs an IPv6 route in the namespace", [], [], 0, ""),
        ];
    }

    [Theory]
    [InlineData(80)]
    [InlineData(100)]
    [InlineData(120)]
    public void Each_test_is_one_line_that_fits(int width)
    {
        var output = new StringWriter { NewLine = "\n" };
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = width;
        ValidateCommand.WriteTable(Verdicts(), console);

        var lines = output.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => Assert.True(LineLayout.Cells(l) <= width, $"{LineLayout.Cells(l)} cells: {l}"));
        Assert.Contains("PASS", lines[1], StringComparison.Ordinal);
        Assert.Contains("FAIL", lines[2], StringComparison.Ordinal);
        Assert.Contains("expected MetadataAPIProcess", lines[2], StringComparison.Ordinal);
        Assert.Contains("SKIP", lines[3], StringComparison.Ordinal);
        Assert.Contains("(2) process", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "133", 133)]
    [InlineData(true, "x", TableConsole.DefaultWidth)]
    [InlineData(true, null, TableConsole.DefaultWidth)]
    [InlineData(true, "5", TableConsole.DefaultWidth)]
    public void Redirected_output_is_as_wide_as_COLUMNS_else_120(bool redirected, string? columns, int width) =>
        Assert.Equal(width, TableConsole.Width(redirected, columns));
}
