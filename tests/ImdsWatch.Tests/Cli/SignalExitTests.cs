using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ImdsWatch.Cli;
using static ImdsWatch.Tests.Runner.RunProcessTests;

namespace ImdsWatch.Tests.Cli;

/// <summary>
/// The commands that stop by themselves (emulate, the agent, validate) as real processes: SIGTERM and SIGINT go
/// through the one handler of Main, the command cleans up, says so in one line and ends with 143 / 130.
/// </summary>
/// <remarks>
/// In the "validate" collection: its validate starts an audit daemon of its own, which a validate or live agent test
/// running beside it would take for the system's and read the wrong log of (and lose when this one stops it).
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
[Collection("validate")]
public sealed class SignalExitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-signal-").FullName;

    [Theory]
    [InlineData("TERM", ExitCodes.Terminated, "imdswatch emulate: terminated by SIGTERM; stopped")]
    [InlineData("INT", ExitCodes.Interrupted, "imdswatch emulate: interrupted by SIGINT; stopped")]
    public void Emulate_stops_listening_on_a_signal_with_one_line_and_the_shell_code(string signal, int code, string line)
    {
        var (process, stderr) = Start("emulate", "--listen", $"http://127.0.0.1:{FreePort()}", "--quiet");
        using (process)
        {
            Assert.NotNull(process.StandardOutput.ReadLine()); // the ready line: listening
            Kill(signal, process.Id);
            Assert.True(process.WaitForExit(30_000), "emulate did not stop on the signal");
            process.WaitForExit();
            Assert.Equal(code, process.ExitCode);
            Assert.Equal(line, Text(stderr).Trim());
        }
    }

    [Theory]
    [InlineData("TERM", ExitCodes.Terminated, "terminated by SIGTERM; pending alerts completed, sinks flushed, stopped")]
    [InlineData("INT", ExitCodes.Interrupted, "interrupted by SIGINT; pending alerts completed, sinks flushed, stopped")]
    public void The_agent_flushes_on_a_signal_then_ends_with_one_line_and_the_shell_code(string signal, int code, string line)
    {
        var output = Path.Combine(_dir, "alerts.ndjson");
        var (agent, stderr) = Start("agent", "--input", "stdin", "--state", Path.Combine(_dir, "none.db"), "--state-dir", Path.Combine(_dir, "spool"),
            "--window", "1m", "--sink", $"file={output}");
        using (agent)
        {
            var attack = File.ReadAllText(Path.Combine(Support.Repo.Samples, "audit-enriched.log"));
            agent.StandardInput.Write(attack);
            agent.StandardInput.Flush(); // stdin stays open: only the signal can end it, and the window holds the alerts
            WaitFor(() => Text(stderr).Contains("started:", StringComparison.Ordinal));
            Thread.Sleep(2000);
            Kill(signal, agent.Id);
            Assert.True(agent.WaitForExit(30_000), "the agent did not stop on the signal");
            agent.WaitForExit();
            Assert.Equal(code, agent.ExitCode);
            var lines = Text(stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal($"imdswatch agent: {line}", lines[^1]);
            Assert.Contains(lines, l => l.Contains("stats:", StringComparison.Ordinal));
            Assert.True(File.Exists(output) && File.ReadAllLines(output).Length > 0, "the alerts pending in the window were not flushed to the sink");
        }
    }

    [RootAuditFact]
    public void Validate_takes_its_lab_down_on_sigint_and_ends_with_130()
    {
        var (validate, stderr) = Start("validate");
        using (validate)
        {
            WaitFor(() => Text(stderr).Contains("setting up", StringComparison.Ordinal));
            Kill("INT", validate.Id);
            Assert.True(validate.WaitForExit(300_000), "validate did not stop on SIGINT");
            validate.WaitForExit();
            Assert.Equal(ExitCodes.Interrupted, validate.ExitCode);
            Assert.Contains("imdswatch validate: interrupted by SIGINT; everything it changed has been restored", Text(stderr), StringComparison.Ordinal);
        }
    }

    private (Process Process, StringBuilder Stderr) Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "imdswatch.dll"));
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["TMPDIR"] = _dir;
        var stderr = new StringBuilder();
        var process = Process.Start(psi)!;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                    stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        return (process, stderr);
    }

    private static string Text(StringBuilder b)
    {
        lock (b)
            return b.ToString();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
