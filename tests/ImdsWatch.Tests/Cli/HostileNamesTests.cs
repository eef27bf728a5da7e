using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Cli;

/// <summary>Host names (node=) and mentioning command lines come from the log: the baseline table and the scan summary show their controls as escapes.</summary>
public sealed class HostileNamesTests : IDisposable
{
    private const string Hostile = "\u001b]0;pwned\u0007\u001b[2J";
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Baseline_show_writes_a_hostile_host_name_as_escapes()
    {
        var log = Path.Combine(_dir, "audit.log");
        File.WriteAllText(log, Week.NormalUse(2, node: "web" + Hostile));
        var state = Path.Combine(_dir, "state.db");
        Assert.Equal(ExitCodes.Ok, CliRun.Of("baseline", "learn", log, "--state", state).Exit);
        var (exit, output, _) = CliRun.Of("baseline", "show", "--state", state);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("\\x1B]0;pwned\\x07", output, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\u0007', output);
    }

    [Fact]
    public void The_scan_summary_lists_a_hostile_mention_as_escapes()
    {
        var log = Path.Combine(_dir, "audit.log");
        var text = Audit.Exec(10, 500, "/usr/bin/echo", ["echo", "PLACEHOLDER"], time: 1_700_000_000)
            .Replace("a1=\"PLACEHOLDER\"", "a1=" + Audit.Hex("see 169.254.169.254 " + Hostile), StringComparison.Ordinal);
        File.WriteAllText(log, text);
        var (exit, _, err) = CliRun.Of("scan", log, "--no-baseline", "--verbose");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("only mention a metadata address", err, StringComparison.Ordinal);
        Assert.Contains("\\x1B[2J", err, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', err);
    }
}
