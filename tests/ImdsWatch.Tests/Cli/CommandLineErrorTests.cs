using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Cli;

/// <summary>Every mistake on the command line is a one-line message and exit 2: no stack trace, no .NET type names.</summary>
public sealed class CommandLineErrorTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        return (Program.Run(args, stdout, stderr), stdout.ToString(), stderr.ToString());
    }

    private static void AssertUsageError(string expected, params string[] args)
    {
        var (exit, _, err) = Run(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_option_is_a_usage_error_with_the_closest_option_not_a_path() =>
        AssertUsageError("unknown option '--min-severty' for 'scan'; did you mean '--min-severity'?", "scan", "--min-severty", "high", "x.log");

    [Fact]
    public void An_unknown_option_without_a_close_one_is_named() =>
        AssertUsageError("unknown option '--since' for 'scan'", "scan", "--since", "1h", "x.log");

    [Fact]
    public void A_bad_duration_names_the_option() => AssertUsageError("--interval: '5x' is not a duration", "run", "--once", "x.log", "--interval", "5x");

    [Fact]
    public void A_bad_time_names_the_option() => AssertUsageError("--now: 'yesterday' is not a date and time", "run", "--once", "x.log", "--now", "yesterday");

    [Fact]
    public void Closed_sets_are_read_in_any_case_and_json_is_ndjson()
    {
        var log = WriteTemp(Exec(10, 500, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/r"]));
        var (exit, output, err) = Run("scan", log, "--format", "JSON", "--min-severity", "HIGH", "--no-baseline");
        Assert.Equal(0, exit);
        Assert.StartsWith("{\"@timestamp\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("imdswatch: unknown", err, StringComparison.Ordinal);
        Assert.Equal(0, Run("scan", log, "--format=Csv", "--no-baseline").Exit);
    }

    [Fact]
    public void Help_lists_the_exit_codes() => Assert.Contains("70 internal error", Run("--help").Out, StringComparison.Ordinal);
}
