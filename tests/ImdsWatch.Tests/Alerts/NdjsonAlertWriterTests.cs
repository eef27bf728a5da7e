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
    [InlineData(1000)] // several rounds of slices, serialized side by side
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
    public void Lines_end_as_the_output_ends_its_lines()
    {
        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        var alert = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]).Alerts[0];
        var output = new StringWriter { NewLine = "\r\n" };
        new NdjsonAlertWriter().Write([alert, alert], output);
        Assert.Equal(NdjsonAlertWriter.ToJson(alert) + "\r\n" + NdjsonAlertWriter.ToJson(alert) + "\r\n", output.ToString());
    }
}
