using ImdsWatch.Alerts;
using ImdsWatch.Config;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Agent;

public sealed class LivePipelineTests
{
    private static string Sample => Path.Combine(Repo.Samples, "audit-enriched.log");

    private static (ImdsWatch.Pipeline.LivePipeline Live, AuditEventBuilder Builder, CollectingSink Sink) Start(TimeSpan window)
    {
        var sink = new CollectingSink();
        var live = EffectiveConfig.Default.Pipeline().Start(sink, window);
        return (live, new AuditEventBuilder(live.CreateSource("<stdin>")), sink);
    }

    [Fact]
    public void An_alert_is_final_once_event_time_passes_its_window_not_at_the_end_of_input()
    {
        var (live, builder, sink) = Start(TimeSpan.FromSeconds(2));
        var lines = File.ReadAllLines(Sample);
        var curl = Array.FindIndex(lines, l => l.Contains("a2=\"http://169.254.169.254/", StringComparison.Ordinal));
        var n = 0;
        foreach (var line in lines.Take(curl + 30))
            builder.Add(System.Text.Encoding.UTF8.GetBytes(line), ++n);
        builder.Flush();
        Assert.Empty(sink.Alerts); // within the window: a wrapper's command could still fold in

        live.Advance(live.EventTime + TimeSpan.FromSeconds(3));
        var url = lines[curl][(lines[curl].IndexOf("a2=\"", StringComparison.Ordinal) + 4)..].TrimEnd('"');
        var alert = Assert.Single(sink.Alerts, a => a.Url == url);
        Assert.Equal("/usr/bin/curl", alert.Process.Executable);
        var count = sink.Alerts.Count;
        live.Advance(live.EventTime + TimeSpan.FromSeconds(3));
        Assert.Equal(count, sink.Alerts.Count); // final means once
    }

    [Fact]
    public void A_fetch_tool_that_connected_is_final_a_fraction_of_a_second_after_its_connect_while_a_one_liner_waits_the_window()
    {
        var (live, builder, sink) = Start(TimeSpan.FromSeconds(2));
        var lines = File.ReadAllLines(Sample);
        var python = Array.FindIndex(lines, l => l.Contains("a0=\"python3\" a1=\"-c\"", StringComparison.Ordinal));
        var connect = Array.FindIndex(lines, python, l => l.Contains("type=SOCKADDR", StringComparison.Ordinal) && l.Contains("laddr=169.254.169.254", StringComparison.Ordinal));
        var n = 0;
        foreach (var line in lines.Take(connect + 10))
            builder.Add(System.Text.Encoding.UTF8.GetBytes(line), ++n);
        builder.Flush();

        live.Advance(live.EventTime + TimeSpan.FromMilliseconds(300)); // far inside the 2 s window
        var curl = Assert.Single(sink.Alerts, a => a.Url == "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
        Assert.Equal("/usr/bin/curl", curl.Process.Executable);
        Assert.Contains(Layer.Network, curl.Layers); // its connect folded in before it became final
        Assert.DoesNotContain(sink.Alerts, a => a.Process.Name == "python3"); // an interpreter could still start a command

        live.Advance(live.EventTime + TimeSpan.FromSeconds(2));
        Assert.Contains(sink.Alerts, a => a.Process.Name == "python3");
    }

    [Fact]
    public void The_warm_up_at_start_takes_a_made_up_curl_all_the_way_to_an_alert() =>
        Assert.True(ImdsWatch.Agent.AgentWarmUp.Run(sink => EffectiveConfig.Default.Pipeline().Start(sink, TimeSpan.FromSeconds(2))) > 0);

    [Fact]
    public void The_live_pipeline_raises_the_alerts_a_scan_raises_on_the_sample()
    {
        var scan = EffectiveConfig.Default.Pipeline().Scan([new InputSource(Sample, Sample)]);
        var (live, builder, sink) = Start(TimeSpan.FromSeconds(2));
        var n = 0;
        foreach (var line in File.ReadLines(Sample))
            builder.Add(System.Text.Encoding.UTF8.GetBytes(line), ++n);
        builder.Flush();
        live.Complete();
        Assert.NotEmpty(scan.Alerts);
        Assert.Equal(scan.Alerts.Select(a => a.Id).Order(StringComparer.Ordinal), sink.Alerts.Select(a => a.Id).Order(StringComparer.Ordinal));
    }
}
