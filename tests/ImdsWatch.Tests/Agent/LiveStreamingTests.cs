using System.Text;
using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Events;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Store;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Agent;

/// <summary>
/// The agent delivers every kind of alert while it runs, not at shutdown: a syslog mention once its program has been
/// quiet for the window, an anomaly with the access that raised it.
/// </summary>
public sealed class LiveStreamingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static LogMessage Line(DateTimeOffset time, int n) => new()
    {
        Timestamp = time,
        Host = "web-1",
        Program = "deploy",
        Pid = 321,
        Message = $"fetching http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role (try {n})",
        Evidence = new EvidenceRef("/var/log/syslog", n, ""),
    };

    [Fact]
    public void A_syslog_mention_is_delivered_once_its_program_is_quiet_for_the_window_not_at_shutdown()
    {
        var sink = new CollectingSink();
        var live = EffectiveConfig.Default.Pipeline().Start(sink, TimeSpan.FromSeconds(2));

        live.Observe(Line(T0, 1));
        live.Observe(Line(T0.AddSeconds(1), 2));
        live.Advance(T0.AddSeconds(2.5));
        Assert.Empty(sink.Alerts); // the program logged within the window: more lines may join

        live.Advance(T0.AddSeconds(3.5));
        var alert = Assert.Single(sink.Alerts);
        Assert.Equal(AlertType.MetadataAPINetwork, alert.AlertType);
        Assert.Contains("logged 2 message(s)", alert.Summary, StringComparison.Ordinal);

        live.Observe(Line(T0.AddSeconds(60), 3)); // later: an alert of its own
        live.Complete();
        Assert.Equal(2, sink.Alerts.Count);
        Assert.NotEqual(sink.Alerts[0].Id, sink.Alerts[1].Id);
    }

    [Fact]
    public void An_anomaly_is_delivered_with_the_access_that_raised_it_not_at_shutdown()
    {
        using var dir = new Sinks.TestAlerts.TempDir();
        BaselineSnapshot baseline;
        using (var store = StateStore.Open(Path.Combine(dir.Path, "state.db")))
        {
            var repository = new BaselineRepository(store);
            repository.Learn(Audit.Scan(Week.NormalUse(8)).Accesses);
            baseline = repository.Snapshot();
        }
        var later = Week.Start + (9 * 86400);
        var text = Week.Nodes(Exec(1, 9000, "/usr/bin/python3.11", ["python3", "/opt/app/worker.py"], uid: 1005, tty: "(none)", time: later)
            + Connect(2, 9000, "/usr/bin/python3.11", "169.254.169.254", uid: 1005, time: later + 0.01), "web-1");
        var sink = new CollectingSink();
        var live = EffectiveConfig.Default.Pipeline(baseline).Start(sink, TimeSpan.FromSeconds(2));
        var builder = new AuditEventBuilder(live.CreateSource("<stdin>"));
        var n = 0;
        foreach (var line in text.Split('\n'))
            builder.Add(Encoding.UTF8.GetBytes(line), ++n);
        builder.Flush();

        live.Advance(live.EventTime + TimeSpan.FromSeconds(3));

        Assert.Contains(sink.Alerts, a => a.AlertType == AlertType.MetadataAPINetwork);
        var unusual = Assert.Single(sink.Alerts, a => a.AlertType == AnomalyRules.UnusualUser);
        Assert.Equal(100, unusual.AnomalyScore);
        var count = sink.Alerts.Count;
        live.Complete();
        Assert.Equal(count, sink.Alerts.Count); // nothing was waiting for the end
    }
}
