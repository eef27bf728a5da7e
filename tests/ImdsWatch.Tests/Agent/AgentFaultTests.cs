using System.Diagnostics;
using System.Text;
using ImdsWatch.Config;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Sinks;

namespace ImdsWatch.Tests.Agent;

/// <summary>Faults around the agent process: auditd restarted mid-stream (the plugin's stdin ends, a new plugin gets the rest), SIGHUP.</summary>
public sealed class AgentFaultTests
{
    private static readonly string[] Lines = FileFollowerTests.Lines;

    private static HashSet<string> ScanIds(string dir, string[] lines)
    {
        var file = Path.Combine(dir, "part.log");
        File.WriteAllLines(file, lines);
        return EffectiveConfig.Default.Pipeline().Scan([new InputSource(file, file)]).Alerts.Select(a => a.Id).ToHashSet();
    }

    private static List<string> Delivered(MockReceiver receiver) => receiver.AcceptedIds();

    [Fact]
    public void Auditd_restarted_mid_stream_while_the_receiver_is_down_loses_no_alert_and_repeats_none()
    {
        using var receiver = new MockReceiver { FailFirst = int.MaxValue };
        using var state = new TestAlerts.TempDir();
        var sink = $"webhook={receiver.Url}/alerts";
        var split = FileFollowerTests.Boundary(0.5);
        var expected = ScanIds(state.Path, Lines);

        // auditd stops: the plugin's stdin ends after the first half; the receiver is down, so its alerts stay spooled.
        using (var first = AgentProcessTests.StartAgent(state.Path, "1s", ["--sink", sink]))
        {
            first.StandardInput.Write(string.Join('\n', Lines[..split]) + "\n");
            first.StandardInput.Close();
            Assert.True(first.WaitForExit(TimeSpan.FromSeconds(60)), "the agent did not exit at EOF");
            Assert.Equal(0, first.ExitCode);
        }
        var spooled = AgentProcessTests.SpooledLines(state.Path);
        Assert.True(spooled > 0);
        Assert.Empty(receiver.Accepted);

        // auditd starts again and starts a new plugin with the rest of the stream; the receiver is back.
        receiver.FailFirst = 0;
        using (var second = AgentProcessTests.StartAgent(state.Path, "1s", ["--sink", sink]))
        {
            second.StandardInput.Write(string.Join('\n', Lines[split..]) + "\n");
            second.StandardInput.Close();
            Assert.True(second.WaitForExit(TimeSpan.FromSeconds(60)), "the agent did not exit at EOF");
        }
        for (var start = 0; start < 5 && AgentProcessTests.SpooledLines(state.Path) > 0 && receiver.AcceptedIds().Count < expected.Count; start++)
        {
            using var drain = AgentProcessTests.StartAgent(state.Path, "1s", ["--sink", sink]);
            drain.StandardInput.Close();
            Assert.True(drain.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        Assert.Equal(expected.Order(StringComparer.Ordinal), Delivered(receiver).Order(StringComparer.Ordinal)); // sent = delivered, none twice
    }

    [Fact]
    public void Sighup_reloads_the_sinks_between_records_and_the_alerts_before_it_go_to_the_old_sinks()
    {
        using var before = new MockReceiver();
        using var after = new MockReceiver();
        using var state = new TestAlerts.TempDir();
        var config = Path.Combine(state.Path, "agent.yaml");
        string Yaml(MockReceiver r, string name) => $"sinks:\n  - type: webhook\n    name: {name}\n    url: {r.Url}/alerts\n";
        File.WriteAllText(config, Yaml(before, "before"));
        var split = FileFollowerTests.Boundary(0.5);
        var (expectedBefore, expected) = (ScanIds(state.Path, Lines[..split]), ScanIds(state.Path, Lines));
        var stderr = new StringBuilder();
        using var agent = AgentProcessTests.StartAgent(state.Path, "1s", ["--config", config], stderr);
        try
        {
            agent.StandardInput.Write(string.Join('\n', Lines[..split]) + "\n");
            agent.StandardInput.Flush();
            MockReceiver.WaitFor(() => before.AcceptedIds().Count >= expectedBefore.Count - 3, 60); // all but what can still fold

            File.WriteAllText(config, Yaml(after, "after"));
            Process.Start("kill", ["-HUP", agent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            MockReceiver.WaitFor(() => { lock (stderr) return stderr.ToString().Contains("configuration reloaded", StringComparison.Ordinal); }, 30);
            agent.StandardInput.Write(string.Join('\n', Lines[split..]) + "\n");
            agent.StandardInput.Close();
            Assert.True(agent.WaitForExit(TimeSpan.FromSeconds(60)), "the agent did not exit at EOF");
            Assert.Equal(0, agent.ExitCode);
        }
        finally
        {
            if (!agent.HasExited)
                agent.Kill(entireProcessTree: true);
        }
        lock (stderr)
            Assert.Contains("configuration reloaded: 1 sink(s)", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(expectedBefore.Order(StringComparer.Ordinal), Delivered(before).Order(StringComparer.Ordinal)); // the old sinks got the first half, completed
        Assert.NotEmpty(after.Accepted);
        Assert.Empty(Delivered(before).Intersect(Delivered(after)));
        Assert.Equal(expected.Order(StringComparer.Ordinal), Delivered(before).Concat(Delivered(after)).Order(StringComparer.Ordinal));
    }
}
