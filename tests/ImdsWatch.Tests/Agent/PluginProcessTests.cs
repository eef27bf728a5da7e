using System.Diagnostics;
using ImdsWatch.Tests.Sinks;

namespace ImdsWatch.Tests.Agent;

/// <summary>auditd-plugins(5): a plugin resets what it inherits; started here with SIGTERM and SIGHUP blocked, a loader variable and a stray one.</summary>
public sealed class PluginProcessTests
{
    /// <summary>Each thread's blocked-signal mask; a thread that ends while it is read is left out.</summary>
    private static List<string> BlockedMasks(int pid)
    {
        var masks = new List<string>();
        foreach (var thread in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                masks.Add(File.ReadLines(Path.Combine(thread, "status")).First(l => l.StartsWith("SigBlk:", StringComparison.Ordinal))[7..].Trim());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone
            }
        }
        return masks;
    }

    private static string Status(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim();

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void An_agent_started_with_signals_blocked_clears_its_mask_environment_and_umask_and_still_stops_on_sigterm()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/python3"))
            return;
        using var state = new TestAlerts.TempDir();
        // python blocks the signals, then becomes the agent (exec keeps the mask, as auditd's fork and exec would).
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
                 {
                     "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP}); os.execvp(sys.argv[1], sys.argv[1:])",
                     "dotnet", Path.Combine(AppContext.BaseDirectory, "imdswatch.dll"), "agent", "--input", "stdin", "--sink", "stdout",
                     "--state", Path.Combine(state.Path, "none.db"), "--state-dir", Path.Combine(state.Path, "spool"),
                 })
            psi.ArgumentList.Add(a);
        psi.Environment["IMDSWATCH_TEST_STRAY_SECRET"] = null;
        psi.Environment["STRAY_SECRET"] = "should-not-survive";
        psi.Environment["LD_LIBRARY_PATH"] = "/nonexistent";
        using var agent = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        agent.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        agent.BeginErrorReadLine();
        bool Said(string text) { lock (stderr) return stderr.ToString().Contains(text, StringComparison.Ordinal); }
        try
        {
            MockReceiver.WaitFor(() => File.ReadAllText($"/proc/{agent.Id}/cmdline").Contains("agent", StringComparison.Ordinal)
                                       && File.ReadAllText($"/proc/{agent.Id}/environ").Contains("IMDSWATCH_PLUGIN_RESET=1", StringComparison.Ordinal), 30);
            MockReceiver.WaitFor(() => Said("started"), 30); // the runtime's threads are up, the handlers set
            var environ = File.ReadAllText($"/proc/{agent.Id}/environ").Split('\0');
            Assert.Contains("IMDSWATCH_PLUGIN_RESET=1", environ); // the new image
            Assert.DoesNotContain(environ, e => e.StartsWith("STRAY_SECRET=", StringComparison.Ordinal));
            Assert.DoesNotContain(environ, e => e.StartsWith("LD_LIBRARY_PATH=", StringComparison.Ordinal));
            Assert.Contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", environ);
            // A thread being started has every signal blocked for a moment (the C library does that around clone):
            // the inherited mask must be gone from every thread, not caught at one instant.
            MockReceiver.WaitFor(() => BlockedMasks(agent.Id).All(m => m == "0000000000000000"), 10);
            Assert.All(BlockedMasks(agent.Id), m => Assert.Equal("0000000000000000", m));
            Assert.Equal("0077", Status(agent.Id, "Umask"));

            Process.Start("kill", ["-TERM", agent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(15)), "SIGTERM did not stop an agent started with it blocked");
            agent.WaitForExit(); // the timed wait returns at the exit, before the last stderr lines are handed over (CI: no stats line)
            Assert.Equal(ImdsWatch.Cli.ExitCodes.Terminated, agent.ExitCode); // flushed, then the shell's code for SIGTERM
        }
        finally
        {
            if (!agent.HasExited)
                agent.Kill(entireProcessTree: true);
        }
        Assert.True(Said("stats:"), "no final stats line: the agent did not flush at SIGTERM");
    }
}
