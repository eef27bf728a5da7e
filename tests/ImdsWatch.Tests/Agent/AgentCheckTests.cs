using ImdsWatch.Cli;
using ImdsWatch.Tests.Sinks;

namespace ImdsWatch.Tests.Agent;

public sealed class AgentCheckTests
{
    [Fact]
    public void Check_sends_one_test_alert_to_each_sink_and_fails_when_one_refuses()
    {
        using var up = new MockReceiver();
        using var down = new MockReceiver { FailFirst = int.MaxValue };
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var ok = Program.Run(["agent", "--check", "--sink", $"webhook={up.Url}/a"], stdout, stderr);
        Assert.True(ok == 0, stderr.ToString());
        var request = Assert.Single(up.Accepted);
        Assert.Contains("imds.agent.check", request.Body, StringComparison.Ordinal);

        stderr.GetStringBuilder().Clear();
        var failed = Program.Run(["agent", "--check", "--sink", $"webhook={up.Url}/a", "--sink", $"webhook={down.Url}/b"], stdout, stderr);
        Assert.Equal(1, failed);
        Assert.Contains("webhook-2", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("FAILED: 503", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("1 of 2 sink(s)", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sink_of_an_unknown_kind_or_without_a_target_is_a_usage_error()
    {
        var stderr = new StringWriter();
        Assert.Equal(2, Program.Run(["agent", "--check", "--sink", "pager=x"], new StringWriter(), stderr));
        Assert.Contains("'pager' is not a sink kind", stderr.ToString(), StringComparison.Ordinal);
        stderr.GetStringBuilder().Clear();
        Assert.Equal(2, Program.Run(["agent", "--check", "--sink", "webhook"], new StringWriter(), stderr));
        Assert.Contains("--sink webhook=", stderr.ToString(), StringComparison.Ordinal);
        stderr.GetStringBuilder().Clear();
        Assert.Equal(2, Program.Run(["agent", "--check", "--sink", "syslog=http://127.0.0.1:514"], new StringWriter(), stderr));
        Assert.Contains("udp://HOST:PORT", stderr.ToString(), StringComparison.Ordinal);
    }
}
