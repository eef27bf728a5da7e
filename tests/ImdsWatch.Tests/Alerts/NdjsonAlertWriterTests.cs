using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Alerts;

public sealed class NdjsonAlertWriterTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(64)]
    [InlineData(1000)] // streaming batches stay under the side-by-side size
    [InlineData(3000)] // several rounds of slices, serialized side by side
    public void Every_alert_is_one_line_in_order(int count)
    {
        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        var sample = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]).Alerts;
        var alerts = Enumerable.Range(0, count).Select(i => sample[i % sample.Count] with { Id = $"alert-{i:D5}" }).ToList();

        var output = new StringWriter { NewLine = "\n" };
        new NdjsonAlertWriter().Write(alerts, output);

        Assert.Equal(string.Concat(alerts.Select(a => NdjsonAlertWriter.ToJson(a) + "\n")), output.ToString());
    }

    [Fact]
    public void One_writer_given_batch_after_batch_writes_each_alert_whole()
    {
        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        var sample = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]).Alerts;
        var longest = sample.MaxBy(a => NdjsonAlertWriter.ToJson(a).Length)!;
        var shortest = sample.MinBy(a => NdjsonAlertWriter.ToJson(a).Length)!;
        var unicode = shortest with { Summary = shortest.Summary + " é中😀" };
        Alert[][] batches = [[longest], [shortest, unicode], [.. Enumerable.Repeat(longest, 40)], [unicode]];

        var writer = new NdjsonAlertWriter();
        var output = new StringWriter { NewLine = "\n" };
        foreach (var batch in batches)
            writer.Write(batch, output);

        Assert.Equal(string.Concat(batches.SelectMany(b => b).Select(a => NdjsonAlertWriter.ToJson(a) + "\n")), output.ToString());
    }

    [Fact]
    public void Lines_end_as_the_output_ends_its_lines()
    {
        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        var alert = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]).Alerts[0];
        var output = new StringWriter { NewLine = "\r\n" };
        new NdjsonAlertWriter().Write([alert, alert], output);
        Assert.Equal(NdjsonAlertWriter.ToJson(alert) + "\r\n" + NdjsonAlertWriter.ToJson(alert) + "\r\n", output.ToString());
    }
}
