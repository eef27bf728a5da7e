using System.Text;
using System.Text.Json;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// Elasticsearch / OpenSearch <c>_bulk</c>: one <c>create</c> action per alert with the alert id as <c>_id</c>, into
/// an index or a data stream. A retry of a batch that partly arrived is answered 409 for what is already there,
/// which counts as delivered: no alert is indexed twice. Each item is judged on its own: one refused for now (429,
/// 5xx) is sent again with backoff, one refused for good (a mapping error, 400, 404 …) is rejected — kept aside,
/// counted and logged — and the rest of the batch is delivered.
/// </summary>
public sealed class ElasticsearchTarget(SinkSettings settings) : HttpTarget(settings)
{
    public const string DefaultIndex = "imdswatch-alerts";
    private readonly Uri _url = BulkUrl(settings.Target ?? throw new InvalidDataException("elasticsearch: a URL is required"));

    public override int MaxBatch => int.MaxValue;

    public static Uri BulkUrl(string target)
    {
        var url = new Uri(target);
        return url.AbsolutePath.TrimEnd('/').EndsWith("/_bulk", StringComparison.Ordinal) ? url : new Uri(url, "/_bulk");
    }

    public override async Task<DeliveryResult> SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        var index = SplunkHecTarget.Quote(Settings.Index ?? DefaultIndex);
        var body = new StringBuilder();
        foreach (var entry in batch)
        {
            body.Append("{\"create\":{\"_index\":").Append(index).Append(",\"_id\":").Append(SplunkHecTarget.Quote(entry.Id)).Append("}}\n");
            body.Append(entry.Json).Append('\n');
        }
        using var response = await PostAsync(_url, body.ToString(), "application/x-ndjson", cancellation).ConfigureAwait(false);
        return Judge(batch, await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false));
    }

    /// <summary>
    /// The items of a <c>_bulk</c> answer, in the order of the batch: 2xx and 409 (already indexed) are delivered;
    /// 429 and 5xx are sent again; any other status is a rejection. An answer that does not list every item is
    /// no answer: the whole batch is sent again.
    /// </summary>
    internal static DeliveryResult Judge(IReadOnlyList<SpoolEntry> batch, string response)
    {
        using var doc = ParseBulk(response);
        var root = doc.RootElement;
        if (!root.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.True)
            return DeliveryResult.AllAccepted;
        if (!root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array || items.GetArrayLength() != batch.Count)
            throw new HttpRequestException($"_bulk: errors, and {(items.ValueKind == JsonValueKind.Array ? items.GetArrayLength() : 0)} item answers for {batch.Count} alerts");
        var retry = new List<SpoolEntry>();
        var rejected = new List<RejectedAlert>();
        var i = 0;
        foreach (var item in items.EnumerateArray())
        {
            var entry = batch[i++];
            var result = item.EnumerateObject().FirstOrDefault().Value;
            var status = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("status", out var s) && s.TryGetInt32(out var n) ? n : 0;
            if (status is >= 200 and < 300 or 409)
                continue;
            if (status is 0 or 429 or >= 500)
                retry.Add(entry);
            else
                rejected.Add(new RejectedAlert(entry, $"_bulk item status {status}: {(result.TryGetProperty("error", out var e) ? e.ToString() : "no error given")}"));
        }
        return retry.Count == 0 && rejected.Count == 0 ? DeliveryResult.AllAccepted : new DeliveryResult(retry, rejected);
    }

    private static JsonDocument ParseBulk(string response)
    {
        try
        {
            return JsonDocument.Parse(response);
        }
        catch (JsonException e)
        {
            throw new HttpRequestException($"_bulk: the answer is not JSON ({e.Message})", e);
        }
    }
}
