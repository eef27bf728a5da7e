using System.Text;
using System.Text.Json;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// Elasticsearch / OpenSearch <c>_bulk</c>: one <c>create</c> action per alert with the alert id as <c>_id</c>, into
/// an index or a data stream. A retry of a batch that partly arrived is answered 409 for what is already there,
/// which counts as delivered: no alert is indexed twice. Any other failed item fails the batch (sent again).
/// </summary>
public sealed class ElasticsearchTarget(SinkSettings settings) : HttpTarget(settings)
{
    public const string DefaultIndex = "imdswatch-alerts";
    private readonly Uri _url = BulkUrl(settings.Target ?? throw new InvalidDataException("elasticsearch: a URL is required"));

    public override int MaxBatch => 500;

    public static Uri BulkUrl(string target)
    {
        var url = new Uri(target);
        return url.AbsolutePath.TrimEnd('/').EndsWith("/_bulk", StringComparison.Ordinal) ? url : new Uri(url, "/_bulk");
    }

    public override async Task SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        var index = SplunkHecTarget.Quote(Settings.Index ?? DefaultIndex);
        var body = new StringBuilder();
        foreach (var entry in batch)
        {
            body.Append("{\"create\":{\"_index\":").Append(index).Append(",\"_id\":").Append(SplunkHecTarget.Quote(entry.Id)).Append("}}\n");
            body.Append(entry.Json).Append('\n');
        }
        using var response = await PostAsync(_url, body.ToString(), "application/x-ndjson", cancellation).ConfigureAwait(false);
        var failure = FirstFailure(await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false));
        if (failure is not null)
            throw new HttpRequestException($"_bulk: {failure}");
    }

    /// <summary>The first item that failed other than by already existing (409), or null.</summary>
    internal static string? FirstFailure(string response)
    {
        using var doc = JsonDocument.Parse(response);
        if (!doc.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.True)
            return null;
        foreach (var item in doc.RootElement.GetProperty("items").EnumerateArray())
        {
            foreach (var action in item.EnumerateObject())
            {
                var status = action.Value.TryGetProperty("status", out var s) ? s.GetInt32() : 0;
                if (status is >= 200 and < 300 or 409)
                    continue;
                var reason = action.Value.TryGetProperty("error", out var e) ? e.ToString() : "";
                return $"item {action.Value.GetProperty("_id").GetString()} status {status} {reason}";
            }
        }
        return null;
    }
}
