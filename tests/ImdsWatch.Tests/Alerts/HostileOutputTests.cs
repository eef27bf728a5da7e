using System.Text.Json;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Cli;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Alerts;

/// <summary>
/// An attacker's command line carries escape sequences (window title, clear screen, a CSI in C1 form) and a CR LF
/// followed by a forged line of our summary. None of it may reach a terminal raw: table, CSV, alerts show and the
/// issue lines on stderr all show it as visible escapes.
/// </summary>
public sealed class HostileOutputTests : IDisposable
{
    private const string Hostile = "\u001b]0;pwned\u0007\u001b[2J\r\nimdswatch: 0 alert(s)\u009b31m\u202e";
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Of(args);

    /// <summary>A curl whose URL argument ends in the hostile text, hex-encoded as the kernel writes such an argument.</summary>
    private string HostileLog()
    {
        var url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/" + Hostile;
        var text = Audit.Exec(10, 500, "/usr/bin/curl", ["curl", "PLACEHOLDER"], time: 1_700_000_000)
            .Replace("a1=\"PLACEHOLDER\"", "a1=" + Audit.Hex(url), StringComparison.Ordinal);
        var path = Path.Combine(_dir, "audit.log");
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertNoRawControls(string output)
    {
        foreach (var c in new[] { '\u001b', '\u0007', '\r', '\u009b', '\u202e' })
            Assert.DoesNotContain(c, output);
        Assert.DoesNotContain(output.Split('\n'), line => line.Trim() == "imdswatch: 0 alert(s)");
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("a\u001b[2Jb", "a\\x1B[2Jb")]
    [InlineData("x\r\ny\tz", "x\\r\\ny\\tz")]
    [InlineData("\u009b31m\u007f\u0000", "\\x9B31m\\x7F\\x00")]
    [InlineData("evil\u202efdp.exe", "evil\\u202Efdp.exe")]
    [InlineData("ünïcödé 169.254.169.254", "ünïcödé 169.254.169.254")]
    public void Controls_are_written_as_visible_escapes_and_other_text_is_kept(string text, string shown) =>
        Assert.Equal(shown, TerminalText.Escape(text));

    [Fact]
    public void The_wide_table_shows_an_attackers_escape_sequences_as_text()
    {
        var (exit, output, _) = Run("scan", HostileLog(), "--format", "table", "--wide", "--no-baseline");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("\\x1B]0;pwned", output, StringComparison.Ordinal);
        AssertNoRawControls(output);
    }

    [Fact]
    public void The_one_line_table_has_no_raw_controls()
    {
        var (exit, output, _) = Run("scan", HostileLog(), "--format", "table", "--no-baseline");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("MetadataAPIProcess", output, StringComparison.Ordinal);
        AssertNoRawControls(output);
    }

    [Fact]
    public void Csv_has_no_raw_controls()
    {
        var (_, output, _) = Run("scan", HostileLog(), "--format", "csv", "--no-baseline");
        Assert.Contains("\\x1B]0;pwned", output, StringComparison.Ordinal);
        AssertNoRawControls(output.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("\tcmd", "'\\tcmd")]
    [InlineData("\r=1", "'\\r=1")]
    [InlineData("-x", "'-x")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    public void Csv_cells_cannot_start_a_formula(string value, string cell) => Assert.Equal(cell, CsvAlertWriter.Quote(value));

    [Fact]
    public void Alerts_list_and_show_escape_what_the_log_said()
    {
        var state = Path.Combine(_dir, "state.db");
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_060).ToString("O");
        var first = Run("run", HostileLog(), "--once", "--now", now, "--state", state);
        Assert.Equal(0, first.Exit);
        var id = JsonDocument.Parse(first.Out.Trim()).RootElement.GetProperty("event").GetProperty("id").GetString()!;
        var list = Run("alerts", "list", "--state", state).Out;
        AssertNoRawControls(list);
        var show = Run("alerts", "show", id, "--state", state).Out;
        Assert.Contains("\\x1B]0;pwned", show, StringComparison.Ordinal);
        AssertNoRawControls(show);
    }

    [Fact]
    public void An_issue_line_escapes_the_file_name_and_the_reason()
    {
        var line = new ParseIssue("logs/\u001b[31maudit.log", 7, "bad access-log time [\r\nimdswatch: 0 alert(s)]").ToString();
        Assert.Equal("logs/\\x1B[31maudit.log:7: bad access-log time [\\r\\nimdswatch: 0 alert(s)]", line);
    }
}
