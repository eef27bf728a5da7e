using System.Text.Json;
using ImdsWatch.Sinks;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Tests.Sinks;

/// <summary>The HTTP sinks against a receiver on 127.0.0.1: the exact request, then an outage and a recovery.</summary>
public sealed class HttpSinkTests
{
    private static SpooledSink Sink(SinkSettings settings, string spoolDir) =>
        new(settings, SinkFactory.Target(settings)!, new DiskSpool(Path.Combine(spoolDir, settings.Name), 1 << 20));

    private static SinkSettings Settings(SinkKind kind, string url, string name = "s") => new()
    {
        Kind = kind,
        Target = url,
        Name = name,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        Retries = 2,
        BreakDuration = TimeSpan.FromMilliseconds(500),
        Timeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public void Webhook_posts_each_alert_as_json_with_its_headers_and_delivers_each_once_after_an_outage()
    {
        using var receiver = new MockReceiver { FailFirst = 12 };
        using var dir = new TestAlerts.TempDir();
        var settings = Settings(SinkKind.Webhook, receiver.Url + "/alerts") with { Headers = new Dictionary<string, string> { ["X-Team"] = "soc" } };
        using var sink = Sink(settings, dir.Path);
        for (var i = 0; i < 20; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => receiver.Accepted.Count >= 20, 60);
        sink.Complete();

        Assert.True(receiver.Requests.Count > receiver.Accepted.Count, "the outage was seen");
        var ids = receiver.Accepted.Select(r => r.Headers[WebhookTarget.IdHeader]).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"alert{i:D4}"), ids); // all, once each, in order
        var first = receiver.Accepted.First();
        Assert.Equal("POST", first.Method);
        Assert.Equal("/alerts", first.Path);
        Assert.StartsWith("application/json", first.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal("soc", first.Headers["X-Team"]);
        using var body = JsonDocument.Parse(first.Body);
        Assert.Equal("alert0000", body.RootElement.GetProperty("event").GetProperty("id").GetString());
        Assert.Equal(0, sink.Backlog);
        Assert.Equal(20, sink.Delivered);
    }

    [Fact]
    public void Splunk_hec_gets_the_event_endpoint_the_token_and_one_envelope_per_alert()
    {
        using var receiver = new MockReceiver { FailFirst = 3 };
        using var dir = new TestAlerts.TempDir();
        var settings = Settings(SinkKind.Hec, receiver.Url) with { Token = "t0k3n", Index = "security", SourceType = "imdswatch:alert" };
        using var sink = Sink(settings, dir.Path);
        for (var i = 0; i < 5; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => !receiver.Accepted.IsEmpty && sink.Backlog == 0, 30);
        sink.Complete();

        var accepted = receiver.Accepted.ToList();
        Assert.All(accepted, r => Assert.Equal("/services/collector/event", r.Path));
        Assert.All(accepted, r => Assert.Equal("Splunk t0k3n", r.Headers["Authorization"]));
        var envelopes = accepted.SelectMany(r => Envelopes(r.Body)).ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"alert{i:D4}"), envelopes.Select(e => e.GetProperty("event").GetProperty("event").GetProperty("id").GetString()));
        var e0 = envelopes[0];
        Assert.Equal("imdswatch:alert", e0.GetProperty("sourcetype").GetString());
        Assert.Equal("security", e0.GetProperty("index").GetString());
        Assert.Equal("web-1", e0.GetProperty("host").GetString());
        Assert.Equal(TestAlerts.Make(0).Timestamp.ToUnixTimeSeconds(), (long)e0.GetProperty("time").GetDouble());
    }

    [Fact]
    public void Elasticsearch_bulk_uses_the_alert_id_so_a_partly_failed_batch_indexes_nothing_twice()
    {
        using var receiver = new MockReceiver { FailFirst = 2 };
        using var dir = new TestAlerts.TempDir();
        var indexed = new Dictionary<string, int>();
        var firstBulk = true;
        receiver.Respond = request =>
        {
            // Bulk semantics: create of an existing _id is 409; the first bulk that gets through fails its later half (429).
            var lines = request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var items = new List<string>();
            for (var k = 0; k < lines.Length; k += 2)
            {
                var action = JsonDocument.Parse(lines[k]).RootElement.GetProperty("create");
                var id = action.GetProperty("_id").GetString()!;
                int status;
                if (firstBulk && k >= lines.Length / 2)
                    status = 429;
                else if (indexed.ContainsKey(id))
                    status = 409;
                else
                {
                    indexed[id] = 1;
                    status = 201;
                }
                items.Add($"{{\"create\":{{\"_index\":\"{action.GetProperty("_index").GetString()}\",\"_id\":\"{id}\",\"status\":{status}{(status >= 400 ? ",\"error\":{\"type\":\"x\"}" : "")}}}}}");
            }
            firstBulk = false;
            return (200, $"{{\"errors\":{(items.Any(i => i.Contains("\"error\"", StringComparison.Ordinal)) ? "true" : "false")},\"items\":[{string.Join(',', items)}]}}");
        };
        var settings = Settings(SinkKind.Elasticsearch, receiver.Url) with { Index = "imdswatch-alerts" };
        using var sink = Sink(settings, dir.Path);
        for (var i = 0; i < 10; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Backlog == 0 && indexed.Count == 10, 30);
        sink.Complete();

        Assert.Equal(10, indexed.Count);
        var request = receiver.Accepted.First();
        Assert.Equal("/_bulk", request.Path);
        Assert.StartsWith("application/x-ndjson", request.Headers["Content-Type"], StringComparison.Ordinal);
        var action0 = JsonDocument.Parse(request.Body.Split('\n')[0]).RootElement.GetProperty("create");
        Assert.Equal("imdswatch-alerts", action0.GetProperty("_index").GetString());
        Assert.StartsWith("alert", action0.GetProperty("_id").GetString(), StringComparison.Ordinal);
        Assert.True(request.Body.EndsWith('\n'));
    }

    [Fact]
    public void Alerts_spooled_while_the_receiver_was_down_are_delivered_once_after_a_restart()
    {
        using var receiver = new MockReceiver { FailFirst = int.MaxValue };
        using var dir = new TestAlerts.TempDir();
        var settings = Settings(SinkKind.Webhook, receiver.Url + "/a");
        var crashed = Sink(settings, dir.Path);
        for (var i = 0; i < 8; i++)
            crashed.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => crashed.Failures > 0);
        crashed.Dispose(); // no Complete: the process died

        receiver.FailFirst = 0;
        using var restarted = Sink(settings, dir.Path);
        Assert.Equal(8, restarted.Backlog);
        MockReceiver.WaitFor(() => receiver.Accepted.Count >= 8);
        restarted.Complete();
        var ids = receiver.Accepted.Select(r => r.Headers[WebhookTarget.IdHeader]).ToList();
        Assert.Equal(8, ids.Count);
        Assert.Equal(8, ids.Distinct().Count());
    }

    private static List<JsonElement> Envelopes(string body)
    {
        var list = new List<JsonElement>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(body), new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var doc = JsonDocument.ParseValue(ref reader);
            list.Add(doc.RootElement.Clone());
        }
        return list;
    }
}
