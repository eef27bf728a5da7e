using System.Diagnostics;
using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Reports;

/// <summary>
/// imdswatch report: one self-contained page, checked as text and, where Debian's chromium is installed (always in CI),
/// in a real browser: its DOM holds every alert, the log's markup stays text, and the console has no error.
/// </summary>
public sealed class HtmlReportTests : IDisposable
{
    private const string Hostile = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>\u001b]0;t\u0007";
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-report-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Of(args);

    /// <summary>The samples plus a curl whose URL carries markup and an escape sequence, as an attacker would write it.</summary>
    private string Report()
    {
        var url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/" + Hostile;
        var log = Exec(10, 500, "/usr/bin/curl", ["curl", "PLACEHOLDER"], time: 1_795_600_000)
            .Replace("a1=\"PLACEHOLDER\"", "a1=" + Hex(url), StringComparison.Ordinal);
        var hostile = Path.Combine(_dir, "hostile.log");
        File.WriteAllText(hostile, Week.Nodes(log, "evil-<b>host</b>"));
        var out_ = Path.Combine(_dir, "report.html");
        var (exit, _, err) = Run("report", Repo.Samples, hostile, "--out", out_);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("report of 61 alert(s) written to", err, StringComparison.Ordinal);
        return out_;
    }

    [Fact]
    public void The_page_is_self_contained_and_the_logs_markup_stays_text()
    {
        var html = File.ReadAllText(Report());
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>host", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;document.title=", html, StringComparison.Ordinal);
        Assert.Contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        Assert.Contains("\\x1B]0;t\\x07", html, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', html);
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html); // nothing to fetch at view time
        Assert.Contains("<svg class=\"timeline\"", html, StringComparison.Ordinal);
        Assert.Contains("Investigation guide", html, StringComparison.Ordinal);
        Assert.Contains("From host to cloud", html, StringComparison.Ordinal);
        Assert.Contains("Process tree", html, StringComparison.Ordinal);
        Assert.Equal(61, System.Text.RegularExpressions.Regex.Count(html, "<section class=\"alert\""));
    }

    [Fact]
    public void Paths_or_state_one_of_the_two()
    {
        Assert.Equal(ExitCodes.Usage, Run("report").Exit);
        Assert.Equal(ExitCodes.Usage, Run("report", Repo.Samples, "--state", Path.Combine(_dir, "s.db")).Exit);
        var (exit, _, err) = Run("report", "--state", Path.Combine(_dir, "missing.db"), "--out", "-");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("missing.db", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_state_database_is_reported_with_its_stored_alerts()
    {
        var state = Path.Combine(_dir, "state.db");
        Assert.Equal(ExitCodes.Ok, Run("run", "--once", Path.Combine(Repo.Samples, "audit-enriched.log"), "--state", state, "--format", "ndjson", "--now", "2026-11-24T14:00:00Z").Exit);
        var (exit, html, _) = Run("report", "--state", state, "--out", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("MetadataAPIProcess", html, StringComparison.Ordinal);
        Assert.Contains("<section class=\"alert\"", html, StringComparison.Ordinal);
    }

    [ChromiumFact]
    public void Headless_chromium_shows_every_alert_with_no_console_error()
    {
        var chromium = ChromiumFactAttribute.Path;
        Assert.True(chromium is not null, "CI installs chromium (test.sh): it must be there");
        var page = Report();
        var profile = Path.Combine(_dir, "profile");
        var (exit, dom, log) = Browse(chromium, profile, "--dump-dom", "file://" + page);
        Assert.True(exit == 0, $"chromium exit {exit}: {log}");

        var text = System.Text.RegularExpressions.Regex.Replace(dom, "<[^>]+>", " ");
        foreach (var type in new[] { "MetadataAPIProcess", "MetadataAPINetwork", "MetadataSSRFAttempt" })
            Assert.Contains(type, text, StringComparison.Ordinal);
        Assert.Contains("imdswatch report", text, StringComparison.Ordinal);
        Assert.DoesNotContain("pwned", System.Text.RegularExpressions.Regex.Match(dom, "<title>(.*?)</title>").Groups[1].Value, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", dom, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", dom, StringComparison.OrdinalIgnoreCase);
        // Chromium logs a page's console messages and uncaught errors as CONSOLE(line) "…" / Uncaught …
        Assert.DoesNotContain("Uncaught", log, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"CONSOLE\(\d+\)|Refused to|net::ERR_", log);
    }

    private static (int Exit, string Out, string Err) Browse(string chromium, string profile, params string[] args)
    {
        var info = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--enable-logging=stderr", "--v=0", "--user-data-dir=" + profile, "--virtual-time-budget=2000" }.Concat(args))
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish in 90 s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
