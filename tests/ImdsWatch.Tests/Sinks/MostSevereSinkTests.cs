using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Sinks;

namespace ImdsWatch.Tests.Sinks;

/// <summary>The table's sink keeps the most severe alerts, not every one, and says what it left out.</summary>
public sealed class MostSevereSinkTests
{
    private static List<Alert> Mixed(int count) =>
        [.. Enumerable.Range(0, count).Select(i => TestAlerts.Make(i, (Severity)(i * 7 % 4)) with { RiskScore = 20 + (i * 13 % 80) })];

    private static (List<Alert> Written, string Output) Table(IEnumerable<Alert> alerts, int limit)
    {
        var writer = new Recorder();
        var output = new StringWriter();
        var sink = new MostSevereSink(writer, output, limit);
        foreach (var alert in alerts)
            sink.Emit(alert);
        sink.Complete();
        return (writer.Written, output.ToString());
    }

    [Fact]
    public void The_table_gets_the_most_severe_alerts_most_severe_first_and_a_line_saying_how_many_more()
    {
        var alerts = Mixed(2500);

        var (written, output) = Table(alerts, limit: 1000);

        var expected = alerts.OrderByDescending(a => a.Severity).ThenByDescending(a => a.RiskScore).ThenBy(a => a.Timestamp).Take(1000).ToList();
        Assert.Equal(expected.Select(a => a.Id), written.Select(a => a.Id));
        Assert.Contains("… and 1500 more alert(s) not shown: the table lists the 1000 most severe; --format ndjson or --format csv lists every one", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_alerts_in_any_order_give_the_same_table()
    {
        var alerts = Mixed(700);
        var shuffled = alerts.OrderBy(a => a.Id.GetHashCode(StringComparison.Ordinal) ^ 0x5bd1e995).ToList();

        Assert.Equal(Table(alerts, 100).Written.Select(a => a.Id), Table(shuffled, 100).Written.Select(a => a.Id));
        Assert.Equal(Table(alerts, 100).Written.Select(a => a.Id), Table(Enumerable.Reverse(alerts), 100).Written.Select(a => a.Id));
    }

    [Fact]
    public void Under_the_limit_every_alert_is_written_and_nothing_is_said()
    {
        var (written, output) = Table(Mixed(40), limit: 40);

        Assert.Equal(40, written.Count);
        Assert.Equal("", output);
    }

    private sealed class Recorder : IAlertWriter
    {
        public List<Alert> Written { get; } = [];

        public void Write(IReadOnlyList<Alert> alerts, TextWriter output) => Written.AddRange(alerts);
    }
}
