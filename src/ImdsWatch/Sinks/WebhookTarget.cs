using System.Globalization;
using System.Text;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// An HTTP webhook: a batch of alerts is one POST, a JSON array (default) or NDJSON, with the configured headers and
/// <c>X-Imdswatch-Alert-Count</c>; with <see cref="WebhookFormat.OnePerRequest"/> each alert is POSTed alone as its JSON
/// object with <c>X-Imdswatch-Alert-Id</c>. The receiver accepts or refuses a request as a whole (2xx or not): a
/// retry sends the same alerts again, and a receiver drops repeats by the alert's <c>event.id</c>.
/// </summary>
public sealed class WebhookTarget(SinkSettings settings) : HttpTarget(settings)
{
    public const string IdHeader = "X-Imdswatch-Alert-Id";
    public const string CountHeader = "X-Imdswatch-Alert-Count";
    private readonly Uri _url = new(settings.Target ?? throw new InvalidDataException("webhook: a URL is required"));

    public override int MaxBatch => Settings.WebhookFormat == WebhookFormat.OnePerRequest ? 1 : int.MaxValue;

    public override async Task<DeliveryResult> SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        if (Settings.WebhookFormat == WebhookFormat.OnePerRequest)
        {
            foreach (var entry in batch)
                (await PostAsync(_url, entry.Json, "application/json", cancellation, (IdHeader, entry.Id)).ConfigureAwait(false)).Dispose();
            return DeliveryResult.AllAccepted;
        }
        var ndjson = Settings.WebhookFormat == WebhookFormat.Ndjson;
        var body = new StringBuilder(batch.Sum(e => e.Json.Length + 1) + 2);
        if (!ndjson)
            body.Append('[');
        for (var i = 0; i < batch.Count; i++)
        {
            if (!ndjson && i > 0)
                body.Append(',');
            body.Append(batch[i].Json);
            if (ndjson)
                body.Append('\n');
        }
        if (!ndjson)
            body.Append(']');
        var count = batch.Count.ToString(CultureInfo.InvariantCulture);
        (await PostAsync(_url, body.ToString(), ndjson ? "application/x-ndjson" : "application/json", cancellation, (CountHeader, count)).ConfigureAwait(false)).Dispose();
        return DeliveryResult.AllAccepted;
    }
}
