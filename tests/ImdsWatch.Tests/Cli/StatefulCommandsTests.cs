using System.Text.Json;
using ImdsWatch.Cli;
using ImdsWatch.Cli.Commands;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Cli;

public sealed class StatefulCommandsTests
{
    private readonly string _state = Path.Combine(Directory.CreateTempSubdirectory("imdswatch-cli-").FullName, "state.db");

    private static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Of(args);

    [Fact]
    public void Baseline_learn_show_export_import_forget_round_trip()
    {
        var normal = WriteTemp(Week.NormalUse(8));
        Assert.Equal(0, Run("baseline", "learn", normal, "--state", _state).Exit);
        var show = Run("baseline", "show", "--state", _state).Out;
        Assert.Contains("/opt/app/worker.py", show, StringComparison.Ordinal);
        Assert.Contains("amazon-ssm-agent", show, StringComparison.Ordinal);
        Assert.Matches(@"web-1: 7\.\d day\(s\) of history", show);

        var export = Path.Combine(Path.GetDirectoryName(_state)!, "baseline.json");
        Assert.Equal(0, Run("baseline", "export", export, "--state", _state).Exit);
        var other = Path.Combine(Path.GetDirectoryName(_state)!, "other.db");
        Assert.Equal(0, Run("baseline", "import", export, "--state", other).Exit);
        Assert.Contains("/opt/app/worker.py", Run("baseline", "show", "--state", other).Out, StringComparison.Ordinal);

        Assert.Equal(0, Run("baseline", "forget", "--program", "/usr/bin/python3.11", "--state", _state).Exit);
        Assert.DoesNotContain("/opt/app/worker.py", Run("baseline", "show", "--state", _state).Out, StringComparison.Ordinal);
        Assert.Equal(2, Run("baseline", "forget", "--state", _state).Exit);
        Assert.Equal(2, Run("baseline", "import", WriteTemp("not json"), "--state", _state).Exit);
    }

    [Fact]
    public void Scan_consults_the_baseline_in_the_state_database()
    {
        var normal = WriteTemp(Week.NormalUse(8));
        Run("baseline", "learn", normal, "--state", _state);
        var later = WriteTemp(Week.NormalUse(1, start: Week.Start + (9 * 86400), serial: 50_000, adminChecksCredentials: false));
        var (exit, output, err) = Run("scan", later, "--state", _state, "--format", "ndjson");
        Assert.Equal(0, exit);
        Assert.Equal("", output.Trim());
        Assert.Contains("known and silent", err, StringComparison.Ordinal);
        Assert.NotEqual("", Run("scan", later, "--state", _state, "--no-baseline", "--format", "ndjson", "-q").Out.Trim());
    }

    [Fact]
    public void Run_once_then_alerts_list_show_and_ack()
    {
        const double t = 1_700_000_000;
        var log = WriteTemp(Exec(10, 500, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/r"], time: t));
        var now = DateTimeOffset.FromUnixTimeSeconds((long)t + 60).ToString("O");
        var first = Run("run", log, "--once", "--now", now, "--state", _state, "--lookback", "45m");
        Assert.Equal(0, first.Exit);
        using var doc = JsonDocument.Parse(first.Out.Trim());
        var id = doc.RootElement.GetProperty("event").GetProperty("id").GetString()!;
        Assert.Contains("1 new alert(s)", first.Err, StringComparison.Ordinal);
        Assert.Contains("0 new alert(s), 1 raised by earlier runs", Run("run", log, "--once", "--now", now, "--state", _state).Err, StringComparison.Ordinal);

        Assert.Contains(id, Run("alerts", "list", "--state", _state).Out, StringComparison.Ordinal);
        Assert.Contains("8. Response", Run("alerts", "show", id[..6], "--state", _state).Out, StringComparison.Ordinal);
        Assert.Equal(0, Run("alerts", "ack", id, "--note", "red team", "--learn", "--state", _state).Exit);
        Assert.DoesNotContain(id, Run("alerts", "list", "--state", _state).Out, StringComparison.Ordinal);
        Assert.Contains(id, Run("alerts", "list", "--all", "--state", _state).Out, StringComparison.Ordinal);
        Assert.Equal(2, Run("alerts", "show", "ffffffff", "--state", _state).Exit);
    }

    [Fact]
    public void Run_needs_once_or_follow_and_sane_values()
    {
        var log = WriteTemp(Exec(10, 500, "/usr/bin/ls", ["ls"]));
        Assert.Equal(2, Run("run", log, "--state", _state).Exit);
        Assert.Equal(2, Run("run", log, "--once", "--follow", "--state", _state).Exit);
        Assert.Equal(2, Run("run", log, "--once", "--max-alerts", "0", "--state", _state).Exit);
    }

    [Theory]
    [InlineData("15m", 15 * 60)]
    [InlineData("45m", 45 * 60)]
    [InlineData("1h", 3600)]
    [InlineData("90s", 90)]
    [InlineData("00:15:00", 15 * 60)]
    public void Durations_read_as_a_siem_writes_them(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), RunCommand.ParseDuration(text));

    [Fact]
    public void Bad_duration_is_a_clear_error() => Assert.Throws<FormatException>(() => RunCommand.ParseDuration("soon"));

    [Fact]
    public void Acknowledging_twice_keeps_the_note_and_the_history_with_who_and_when()
    {
        const double t = 1_700_000_000;
        var log = WriteTemp(Exec(10, 500, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/r"], time: t)
            + Exec(11, 501, "/usr/bin/wget", ["wget", "http://169.254.169.254/latest/user-data"], time: t + 1));
        var now = DateTimeOffset.FromUnixTimeSeconds((long)t + 60).ToString("O");
        Assert.Equal(0, Run("run", log, "--once", "--now", now, "--state", _state).Exit);
        var listed = JsonDocument.Parse(Run("alerts", "list", "--format", "json", "--state", _state).Out).RootElement;
        Assert.Equal(2, listed.GetProperty("total").GetInt32());
        var id = listed.GetProperty("alerts")[0].GetProperty("event").GetProperty("id").GetString()!;
        Assert.Contains("1 of 2 alert(s)", Run("alerts", "list", "--limit", "1", "--state", _state).Out, StringComparison.Ordinal);

        Assert.Equal(0, Run("alerts", "ack", id, "--note", "red team exercise", "--state", _state).Exit);
        Assert.Equal(0, Run("alerts", "ack", id, "--state", _state).Exit);
        var show = Run("alerts", "show", id, "--state", _state).Out;
        Assert.Contains("acknowledged", show, StringComparison.Ordinal);
        Assert.Contains(": red team exercise", show, StringComparison.Ordinal);
        var who = Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;
        var history = show.Split('\n').SkipWhile(l => l != "Acknowledgements").Skip(1).TakeWhile(l => l.Length > 0).ToList();
        Assert.Equal(2, history.Count);
        Assert.All(history, l => Assert.Contains(" by " + who, l, StringComparison.Ordinal));
        Assert.EndsWith(": red team exercise", history[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_commands_refuse_a_state_file_that_does_not_exist_and_create_none()
    {
        var missing = Path.Combine(Path.GetDirectoryName(_state)!, "typo.db");
        foreach (var args in new[] { new[] { "alerts", "list" }, ["alerts", "show", "abc"], ["alerts", "ack", "abc"], ["baseline", "show"], ["baseline", "export", "-"] })
        {
            var (exit, _, err) = Run([.. args, "--state", missing]);
            Assert.Equal(2, exit);
            Assert.Contains("no state database there", err, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(missing));
    }
}
