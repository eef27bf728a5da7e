using System.Diagnostics;
using System.Text.Json;
using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;
using Xunit.Abstractions;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Runner;

/// <summary>`imdswatch run` and `scan` as real processes: killed with SIGKILL mid-output, stopped by SIGTERM and SIGINT.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RunProcessTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-proc-").FullName;

    private string Log => Path.Combine(_dir, "audit.log");

    private string Spool => Path.Combine(_dir, "tmp");

    private Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "imdswatch.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        Directory.CreateDirectory(Spool);
        psi.Environment["TMPDIR"] = Spool;
        return Process.Start(psi)!;
    }

    private string[] RunOnce => ["run", "--once", "--max-alerts", "100000", "--state", Path.Combine(_dir, "state.db"), "--now", "2023-11-14T23:00:00Z", Log];

    private void WriteAttacks(int count)
    {
        using var w = new StreamWriter(Log);
        for (var i = 0; i < count; i++)
            w.Write(Exec((ulong)(100 + i), 3000 + i, "/usr/bin/curl", ["curl", "-s", Week.Creds], time: 1_700_000_000 + 1800 + (i * 0.01)));
    }

    private static string Id(string ndjsonLine) => JsonDocument.Parse(ndjsonLine).RootElement.GetProperty("event").GetProperty("id").GetString()!;

    [Theory]
    [InlineData(1)]
    [InlineData(400)]
    public void A_run_killed_with_sigkill_while_printing_loses_no_alert(int killAfterLines)
    {
        const int sent = 1000;
        WriteAttacks(sent);
        var printed = new List<string>();
        using (var first = Start(RunOnce))
        {
            first.StandardInput.Close();
            while (printed.Count < killAfterLines && first.StandardOutput.ReadLine() is { } line)
                printed.Add(Id(line));
            first.Kill(); // SIGKILL: between printing and storing, or wherever it is
            first.WaitForExit();
            printed.AddRange(first.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.EndsWith('}')).Select(Id));
        }
        var firstCount = printed.Count;
        using (var second = Start(RunOnce))
        {
            second.StandardInput.Close();
            var output = second.StandardOutput.ReadToEnd();
            second.WaitForExit();
            Assert.Equal(ExitCodes.Ok, second.ExitCode);
            printed.AddRange(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Id));
        }
        var raised = printed.Distinct(StringComparer.Ordinal).Count();
        log.WriteLine($"kill -9 after {killAfterLines} line(s): sent {sent}, printed before the kill {firstCount}, raised {raised}, duplicated {printed.Count - raised}");
        Assert.Equal(sent, raised);
    }

    [Theory]
    [InlineData("TERM", ExitCodes.Terminated, "terminated by SIGTERM")]
    [InlineData("INT", ExitCodes.Interrupted, "interrupted by SIGINT")]
    public void A_signal_during_a_scan_ends_it_with_one_line_and_the_shell_code_and_removes_the_stdin_spool(string signal, int code, string message)
    {
        using var scan = Start("scan", "-", "--no-baseline");
        scan.StandardInput.Write(Exec(1, 2, "/usr/bin/curl", ["curl", Week.Creds]));
        scan.StandardInput.Flush(); // stdin stays open: the scan is still spooling it
        WaitFor(() => Spooled().Length == 1);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Spooled()[0]));
        Kill(signal, scan.Id);
        Assert.True(scan.WaitForExit(30_000), "the scan did not end on the signal");
        var err = scan.StandardError.ReadToEnd();
        Assert.Equal(code, scan.ExitCode);
        Assert.Equal($"imdswatch: {message}; stopped", err.Trim());
        Assert.Empty(Spooled());
    }

    [Fact]
    public void Sigterm_while_a_run_waits_for_the_state_ends_it_with_143_and_a_message()
    {
        WriteAttacks(1);
        using var held = ImdsWatch.Runner.RunLock.Take(Path.Combine(_dir, "state.db"), TimeSpan.Zero);
        using var run = Start(RunOnce);
        run.StandardInput.Close();
        WaitFor(() => File.Exists(Path.Combine(_dir, "state.db"))); // started: the state is open, the lock next
        Thread.Sleep(500);
        Kill("TERM", run.Id);
        Assert.True(run.WaitForExit(30_000));
        var err = run.StandardError.ReadToEnd();
        Assert.Equal(ExitCodes.Terminated, run.ExitCode);
        Assert.Contains("SIGTERM during a run: stopped; nothing of this run was stored", err, StringComparison.Ordinal);
        Assert.Equal("", run.StandardOutput.ReadToEnd());
    }

    [Fact]
    public void Sigint_between_follow_runs_ends_with_130()
    {
        WriteAttacks(2);
        using var run = Start("run", "--follow", "--interval", "1h", "--state", Path.Combine(_dir, "state.db"), "--now", "2023-11-14T23:00:00Z", Log);
        run.StandardInput.Close();
        var first = run.StandardOutput.ReadLine(); // the first run printed: now it sleeps
        Assert.NotNull(first);
        WaitFor(() => File.Exists(Path.Combine(_dir, "state.db")));
        Thread.Sleep(1000);
        Kill("INT", run.Id);
        Assert.True(run.WaitForExit(30_000));
        Assert.Equal(ExitCodes.Interrupted, run.ExitCode);
        Assert.Contains("SIGINT: stopped between runs", run.StandardError.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_character_device_is_refused_by_run_with_a_message()
    {
        using var run = Start("run", "--once", "--state", Path.Combine(_dir, "state.db"), "/dev/zero");
        run.StandardInput.Close();
        Assert.True(run.WaitForExit(30_000), "run read /dev/zero");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("/dev/zero: a character device, not a log file; refused", run.StandardError.ReadToEnd(), StringComparison.Ordinal);
    }

    private string[] Spooled() => Directory.GetFiles(Spool, "imdswatch-stdin-*");

    internal static void Kill(string signal, int pid)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    internal static void WaitFor(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "timed out");
            Thread.Sleep(50);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
