using System.Diagnostics;
using ImdsWatch.Config;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Sinks;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Agent;

/// <summary><c>imdswatch agent</c> as its own process, fed the plugin stream on stdin, killed and restarted.</summary>
public sealed class AgentProcessTests
{
    private static string Sample => Path.Combine(Repo.Samples, "audit-enriched.log");

    private static Process StartAgent(string state, params string[] args) => StartAgent(state, "1s", args);

    internal static Process StartAgent(string state, string window, string[] args, System.Text.StringBuilder? stderr = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "imdswatch.dll"));
        foreach (var a in new[] { "agent", "--input", "stdin", "--state", Path.Combine(state, "none.db"), "--state-dir", Path.Combine(state, "spool"), "--window", window }.Concat(args))
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && stderr is not null) { lock (stderr) stderr.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    internal static int SpooledLines(string state) =>
        Directory.Exists(Path.Combine(state, "spool", "webhook"))
            ? Directory.GetFiles(Path.Combine(state, "spool", "webhook"), "*.spool").Sum(f => File.ReadAllText(f).Count(c => c == '\n'))
            : 0;

    [Fact]
    public void Alerts_spooled_before_a_kill_9_are_delivered_once_after_the_restart()
    {
        var expected = EffectiveConfig.Default.Pipeline().Scan([new InputSource(Sample, Sample)]).Alerts.Select(a => a.Id).ToHashSet();
        using var receiver = new MockReceiver { FailFirst = int.MaxValue };
        using var state = new TestAlerts.TempDir();
        var sink = $"webhook={receiver.Url}/alerts";

        using (var agent = StartAgent(state.Path, "--sink", sink))
        {
            try
            {
                agent.StandardInput.Write(File.ReadAllText(Sample));
                agent.StandardInput.Flush(); // stdin stays open: the stream goes on, the alerts are final by the window
                MockReceiver.WaitFor(() => SpooledLines(state.Path) >= expected.Count, 60);
            }
            finally
            {
                agent.Kill(entireProcessTree: true); // SIGKILL
                agent.WaitForExit();
            }
        }
        Assert.Equal(expected.Count, SpooledLines(state.Path));
        Assert.Empty(receiver.Accepted);

        receiver.FailFirst = 0;
        // Each start drains for a few seconds at EOF and leaves the rest spooled for the next: start until none is left.
        for (var start = 0; start < 5 && SpooledLines(state.Path) > 0 && receiver.AcceptedIds().Count < expected.Count; start++)
        {
            using var restarted = StartAgent(state.Path, "--sink", sink);
            restarted.StandardInput.Close(); // EOF: complete, drain the spool, exit
            Assert.True(restarted.WaitForExit(TimeSpan.FromSeconds(30)), "the agent did not exit at EOF");
            Assert.Equal(0, restarted.ExitCode);
        }
        var delivered = receiver.AcceptedIds();
        Assert.Equal(expected.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal)); // none lost, none twice
    }

    [Fact]
    public void Sigterm_flushes_the_pending_alerts_and_exits_within_seconds()
    {
        var expected = EffectiveConfig.Default.Pipeline().Scan([new InputSource(Sample, Sample)]).Alerts.Select(a => a.Id).ToHashSet();
        using var receiver = new MockReceiver();
        using var state = new TestAlerts.TempDir();
        using var agent = StartAgent(state.Path, "1m", ["--sink", $"webhook={receiver.Url}/alerts"]);
        try
        {
            agent.StandardInput.Write(File.ReadAllText(Sample));
            agent.StandardInput.Flush();
            Thread.Sleep(3000); // read; what can still fold is kept pending by the one-minute window
            Assert.True(receiver.AcceptedIds().Count < expected.Count, "every alert was final before the window");
            var clock = Stopwatch.StartNew();
            Process.Start("kill", ["-TERM", agent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(10)), "no exit within 10 s of SIGTERM");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"exit took {clock.Elapsed}");
            Assert.Equal(ImdsWatch.Cli.ExitCodes.Terminated, agent.ExitCode); // flushed, then the shell's code for SIGTERM
            Assert.Equal(expected.Order(StringComparer.Ordinal), receiver.AcceptedIds().Order(StringComparer.Ordinal));
        }
        finally
        {
            if (!agent.HasExited)
                agent.Kill(entireProcessTree: true);
        }
    }
}
