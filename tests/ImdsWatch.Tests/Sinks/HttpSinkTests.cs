using System.Text.Json;
using ImdsWatch.Sinks;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Tests.Sinks;

/// <summary>The HTTP sinks against a receiver on 127.0.0.1: the exact request, then an outage and a recovery.</summary>
public sealed class HttpSinkTests
{
    private static SpooledSink Sink(SinkSettings settings, string spoolDir) =>
        new(settings, SinkFactory.Target(settings)!, new DiskSpool(Path.Combine(spoolDir, settings.Name), 1 << 20));

    /// <summary>Emits alerts 0 … count-1 through a new sink and waits until its spool is empty.</summary>
    private static SpooledSink Deliver(SinkSettings settings, string spoolDir, int count)
    {
        var sink = Sink(settings, spoolDir);
        for (var i = 0; i < count; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Backlog == 0, 30);
        sink.Complete();
        return sink;
    }

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
    public void Webhook_posts_batches_as_json_arrays_with_its_headers_and_delivers_each_alert_once_after_an_outage()
    {
        using var receiver = new MockReceiver { FailFirst = 4 };
        using var dir = new TestAlerts.TempDir();
        var settings = Settings(SinkKind.Webhook, receiver.Url + "/alerts") with { Headers = new Dictionary<string, string> { ["X-Team"] = "soc" } };
        using var sink = Sink(settings, dir.Path);
        for (var i = 0; i < 200; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Backlog == 0, 60);
        sink.Complete();

        Assert.True(receiver.Requests.Count > receiver.Accepted.Count, "the outage was seen");
        var ids = receiver.Accepted.SelectMany(r => Ids(r.Body)).ToList();
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"alert{i:D4}"), ids); // all, once each, in order
        Assert.True(receiver.Accepted.Count <= 10, $"{receiver.Accepted.Count} requests for 200 alerts: batched");
        var first = receiver.Accepted.First();
        Assert.Equal("POST", first.Method);
        Assert.Equal("/alerts", first.Path);
        Assert.StartsWith("application/json", first.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal("soc", first.Headers["X-Team"]);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(first.Body).RootElement.ValueKind);
        Assert.Equal(Ids(first.Body).Count.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Headers[WebhookTarget.CountHeader]);
        Assert.Equal(0, sink.Backlog);
        Assert.Equal(200, sink.Delivered);
    }

    [Fact]
    public void Webhook_batches_respect_the_count_and_byte_limits()
    {
        using var receiver = new MockReceiver();
        using var dir = new TestAlerts.TempDir();
        var settings = Settings(SinkKind.Webhook, receiver.Url) with { BatchSize = 7, Linger = TimeSpan.FromSeconds(1) };
        Deliver(settings, dir.Path, 50).Dispose();
        Assert.All(receiver.Accepted, r => Assert.InRange(Ids(r.Body).Count, 1, 7));
        Assert.Equal(50, receiver.Accepted.Sum(r => Ids(r.Body).Count));

        using var bytesReceiver = new MockReceiver();
        var oneAlert = System.Text.Encoding.UTF8.GetByteCount(ImdsWatch.Alerts.Output.NdjsonAlertWriter.ToJson(TestAlerts.Make(0), DateTimeOffset.UtcNow)) + 20;
        Deliver(Settings(SinkKind.Webhook, bytesReceiver.Url, "small") with { BatchMaxBytes = oneAlert * 3, Linger = TimeSpan.FromSeconds(1) }, dir.Path, 30).Dispose();
        Assert.All(bytesReceiver.Accepted, r => Assert.InRange(Ids(r.Body).Count, 1, 3));
        Assert.Equal(30, bytesReceiver.Accepted.Sum(r => Ids(r.Body).Count));
    }

    [Fact]
    public void A_lone_alert_is_sent_at_once_and_a_burst_within_the_linger_goes_in_one_request()
    {
        using var receiver = new MockReceiver();
        using var dir = new TestAlerts.TempDir();
        // A linger long enough that the first request's set-up on a loaded machine (CI saw 1.5 s and more: the client's
        // first connection, compiled code) is told apart from waiting for it: sent within half of it.
        var linger = TimeSpan.FromSeconds(6);
        using var sink = Sink(Settings(SinkKind.Webhook, receiver.Url) with { Linger = linger }, dir.Path);
        var started = DateTime.UtcNow;
        sink.Emit(TestAlerts.Make(0));
        MockReceiver.WaitFor(() => receiver.Accepted.Count == 1, 10);
        Assert.True(DateTime.UtcNow - started < linger / 2, "the first alert did not wait for the linger");
        for (var i = 1; i <= 20; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Backlog == 0, 20);
        sink.Complete();
        Assert.Equal([1, 20], receiver.Accepted.Select(r => Ids(r.Body).Count));
    }

    [Fact]
    public void Webhook_in_ndjson_or_one_per_request_format()
    {
        using var receiver = new MockReceiver();
        using var dir = new TestAlerts.TempDir();
        Deliver(Settings(SinkKind.Webhook, receiver.Url + "/nd", "nd") with { WebhookFormat = WebhookFormat.Ndjson }, dir.Path, 5).Dispose();
        var nd = receiver.Accepted.Where(r => r.Path == "/nd").ToList();
        Assert.All(nd, r => Assert.StartsWith("application/x-ndjson", r.Headers["Content-Type"], StringComparison.Ordinal));
        Assert.All(nd, r => Assert.EndsWith("}\n", r.Body, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"alert{i:D4}"), nd.SelectMany(r => Ids(r.Body)));

        Deliver(Settings(SinkKind.Webhook, receiver.Url + "/one", "one") with { WebhookFormat = WebhookFormat.OnePerRequest }, dir.Path, 5).Dispose();
        var one = receiver.Accepted.Where(r => r.Path == "/one").ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"alert{i:D4}"), one.Select(r => r.Headers[WebhookTarget.IdHeader]));
        Assert.All(one, r => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(r.Body).RootElement.ValueKind));
    }

    [Fact]
    public void A_batch_refused_as_too_large_is_split_and_an_alert_too_large_alone_is_kept_aside()
    {
        using var receiver = new MockReceiver();
        using var dir = new TestAlerts.TempDir();
        var oneAlert = System.Text.Encoding.UTF8.GetByteCount(ImdsWatch.Alerts.Output.NdjsonAlertWriter.ToJson(TestAlerts.Make(0), DateTimeOffset.UtcNow));
        receiver.Respond = request => request.Body.Length > oneAlert * 5 ? (413, "Request Entity Too Large") : (200, "{}");
        var settings = Settings(SinkKind.Webhook, receiver.Url, "proxy") with { Linger = TimeSpan.FromSeconds(1) };
        var logged = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var sink = new SpooledSink(settings, SinkFactory.Target(settings)!, new DiskSpool(Path.Combine(dir.Path, "proxy"), 1 << 20), logged.Enqueue);
        for (var i = 0; i < 40; i++)
            sink.Emit(i == 17 ? TestAlerts.Make(i) with { Summary = new string('z', oneAlert * 6) } : TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Backlog == 0, 30);
        sink.Complete();

        Assert.Equal(Enumerable.Range(0, 40).Where(i => i != 17).Select(i => $"alert{i:D4}"), receiver.AcceptedIds()); // all, once each, in order
        Assert.All(receiver.Accepted, r => Assert.True(r.Body.Length <= oneAlert * 5));
        Assert.Equal(1, sink.Rejected);
        Assert.Contains("alert0017", File.ReadAllText(Path.Combine(dir.Path, "proxy", "rejected.ndjson")), StringComparison.Ordinal);
        Assert.Contains(logged, l => l.Contains("413", StringComparison.Ordinal));
    }

    [Fact]
    public void A_receiver_that_is_down_then_comes_up_gets_every_alert_once()
    {
        var port = MockReceiver.FreePort();
        using var dir = new TestAlerts.TempDir();
        using var sink = Sink(Settings(SinkKind.Webhook, $"http://127.0.0.1:{port}/a"), dir.Path);
        for (var i = 0; i < 300; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Failures > 0);
        Assert.Equal(300, sink.Backlog); // connection refused: nothing taken

        using var receiver = new MockReceiver(port);
        MockReceiver.WaitFor(() => sink.Backlog == 0, 60);
        sink.Complete();
        var ids = receiver.Accepted.SelectMany(r => Ids(r.Body)).ToList();
        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"alert{i:D4}"), ids);
        Assert.True(receiver.Accepted.Count < 10, $"{receiver.Accepted.Count} requests: the backlog went in batches");
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
    public void Elasticsearch_retries_only_the_items_refused_for_now_and_keeps_those_refused_for_good()
    {
        using var receiver = new MockReceiver();
        using var dir = new TestAlerts.TempDir();
        var indexed = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var busy = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        receiver.Respond = request =>
        {
            // alert0003 never maps (400); every fifth alert is refused twice with 429 (then indexed); the rest at once.
            var lines = request.Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var items = new List<string>();
            for (var k = 0; k < lines.Length; k += 2)
            {
                var id = JsonDocument.Parse(lines[k]).RootElement.GetProperty("create").GetProperty("_id").GetString()!;
                var n = int.Parse(id[5..], System.Globalization.CultureInfo.InvariantCulture);
                var status = id == "alert0003" ? 400 : n % 5 == 0 && busy.AddOrUpdate(id, 1, (_, c) => c + 1) <= 2 ? 429 : indexed.TryAdd(id, 1) ? 201 : 409;
                if (status == 409)
                    indexed[id]++;
                items.Add($"{{\"create\":{{\"_id\":\"{id}\",\"status\":{status}{(status >= 400 ? ",\"error\":{\"type\":\"" + (status == 400 ? "document_parsing_exception" : "es_rejected_execution_exception") + "\"}" : "")}}}}}");
            }
            return (200, $"{{\"errors\":true,\"items\":[{string.Join(',', items)}]}}");
        };
        var logged = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var settings = Settings(SinkKind.Elasticsearch, receiver.Url) with { Retries = 5, BatchSize = 50 };
        using var sink = new SpooledSink(settings, SinkFactory.Target(settings)!, new DiskSpool(Path.Combine(dir.Path, "es"), 1 << 20), logged.Enqueue);
        for (var i = 0; i < 40; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Backlog == 0, 60);
        sink.Complete();

        Assert.Equal(39, indexed.Count);
        Assert.All(indexed.Values, c => Assert.Equal(1, c)); // the retries carried only the refused items: no 409
        Assert.Equal(39, sink.Delivered);
        Assert.Equal(1, sink.Rejected);
        Assert.Contains(logged, l => l.Contains("alert0003", StringComparison.Ordinal) && l.Contains("document_parsing_exception", StringComparison.Ordinal));
        var rejected = File.ReadAllLines(Path.Combine(dir.Path, "es", "rejected.ndjson"));
        var line = Assert.Single(rejected);
        using var kept = JsonDocument.Parse(line);
        Assert.Equal("alert0003", kept.RootElement.GetProperty("id").GetString());
        Assert.Equal("alert0003", kept.RootElement.GetProperty("alert").GetProperty("event").GetProperty("id").GetString());
        Assert.Contains("400", kept.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        if (OperatingSystem.IsLinux())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir.Path, "es", "rejected.ndjson")));
    }

    [Fact]
    public void Elasticsearch_bulk_answer_that_misses_items_resends_the_whole_batch()
    {
        var batch = Enumerable.Range(0, 3).Select(i => new SpoolEntry($"a{i}", "{}", 1, i)).ToList();
        Assert.Throws<HttpRequestException>(() => ElasticsearchTarget.Judge(batch, "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}}]}"));
        Assert.Throws<HttpRequestException>(() => ElasticsearchTarget.Judge(batch, "<html>proxy error</html>"));
        var judged = ElasticsearchTarget.Judge(batch, "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},{\"create\":{\"status\":503}},{\"index\":{\"status\":404,\"error\":{\"type\":\"index_not_found_exception\"}}}]}");
        Assert.Equal(["a1"], judged.Retry.Select(e => e.Id));
        Assert.Equal("a2", Assert.Single(judged.Rejected).Entry.Id);
        Assert.Same(DeliveryResult.AllAccepted, ElasticsearchTarget.Judge(batch, "{\"errors\":false,\"items\":[]}"));
    }

    [Fact]
    public void Splunk_hec_invalid_event_is_kept_aside_and_the_others_sent_again()
    {
        using var receiver = new MockReceiver();
        using var dir = new TestAlerts.TempDir();
        receiver.Respond = request =>
        {
            var events = Envelopes(request.Body);
            var bad = events.FindIndex(e => e.GetProperty("event").GetProperty("event").GetProperty("id").GetString() == "alert0002");
            return bad < 0 ? (200, "{\"text\":\"Success\",\"code\":0}") : (400, $"{{\"text\":\"Invalid data format\",\"code\":6,\"invalid-event-number\":{bad}}}");
        };
        var settings = Settings(SinkKind.Hec, receiver.Url) with { Token = "t" };
        using var sink = Sink(settings, dir.Path);
        for (var i = 0; i < 6; i++)
            sink.Emit(TestAlerts.Make(i));
        MockReceiver.WaitFor(() => sink.Backlog == 0, 30);
        sink.Complete();

        var delivered = receiver.Accepted.SelectMany(r => Envelopes(r.Body)).Select(e => e.GetProperty("event").GetProperty("event").GetProperty("id").GetString()).ToList();
        Assert.Equal(["alert0000", "alert0001", "alert0003", "alert0004", "alert0005"], delivered.Distinct().Order());
        Assert.DoesNotContain("alert0002", delivered);
        Assert.Equal(1, sink.Rejected);
        Assert.Contains("alert0002", File.ReadAllText(Path.Combine(dir.Path, settings.Name, "rejected.ndjson")), StringComparison.Ordinal);
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
        var ids = receiver.Accepted.SelectMany(r => Ids(r.Body)).ToList();
        Assert.Equal(8, ids.Count);
        Assert.Equal(8, ids.Distinct().Count());
    }

    /// <summary>The alert ids of a webhook body: an array, NDJSON lines or one object.</summary>
    private static List<string> Ids(string body) => [.. MockReceiver.AlertsOf(body).Select(e => e.GetProperty("event").GetProperty("id").GetString()!)];

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
