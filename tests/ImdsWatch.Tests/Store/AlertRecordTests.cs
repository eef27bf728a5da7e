using ImdsWatch.Alerts;
using ImdsWatch.Store;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Store;

public sealed class AlertRecordTests
{
    [Fact]
    public void Every_sample_alert_survives_the_store_unchanged()
    {
        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        var alerts = new ImdsWatch.Pipeline.DetectionPipeline(ImdsWatch.Detection.DetectionRules.Default).Scan([new(path, path)]).Alerts;
        Assert.NotEmpty(alerts);
        foreach (var alert in alerts)
        {
            var back = AlertRecord.Deserialize(AlertRecord.Serialize(alert));
            Assert.NotNull(back);
            Assert.Equal(ImdsWatch.Alerts.Output.NdjsonAlertWriter.ToJson(alert), ImdsWatch.Alerts.Output.NdjsonAlertWriter.ToJson(back));
        }
    }

    [Fact]
    public void An_alert_without_host_or_process_survives_the_store()
    {
        var alert = new Alert
        {
            Id = "0123456789abcdef",
            Timestamp = DateTimeOffset.UnixEpoch,
            RuleId = "r",
            RuleName = "n",
            AlertType = AlertType.MetadataAPINetwork,
            Access = ImdsWatch.Indicators.AccessClass.Metadata,
            Severity = Severity.Low,
            RiskScore = 1,
            Host = null,
            Process = ImdsWatch.Events.ProcessSnapshot.None,
            Summary = "s",
        };
        var back = AlertRecord.Deserialize(AlertRecord.Serialize(alert));
        Assert.NotNull(back);
        Assert.Null(back.Host);
        Assert.True(back.Process.IsNone);
    }

    [Fact]
    public void A_record_of_another_version_or_the_old_output_json_is_not_read_as_an_alert()
    {
        Assert.Null(AlertRecord.Deserialize("{\"record_version\":99,\"alert\":{}}"));
        Assert.Null(AlertRecord.Deserialize("{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"event\":{\"kind\":\"alert\"}}"));
        Assert.Null(AlertRecord.Deserialize("not json"));
    }
}
