using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// Splunk HTTP Event Collector: a batch is one POST to <c>/services/collector/event</c> with
/// <c>Authorization: Splunk TOKEN</c>, the events concatenated, each with time, host, source, sourcetype, index.
/// HEC refuses a batch with a malformed event as 400 with <c>invalid-event-number</c>: that event is rejected for
/// good and the others are sent again (HEC may have indexed the ones before it: at least once, never lost).
/// </summary>
public sealed class SplunkHecTarget(SinkSettings settings) : HttpTarget(settings)
{
    public const string EventPath = "/services/collector/event";
    private readonly Uri _url = EndpointOf(settings.Target ?? throw new InvalidDataException("hec: a URL is required"));
    private readonly string _token = settings.Token ?? throw new InvalidDataException("hec: a token is required (token:, or IMDSWATCH_HEC_TOKEN)");

    public override int MaxBatch => int.MaxValue;

    /// <summary>The base URL as given, or already ending in the event path.</summary>
    public static Uri EndpointOf(string target)
    {
        var url = new Uri(target);
        return url.AbsolutePath.TrimEnd('/').EndsWith(EventPath, StringComparison.Ordinal) ? url : new Uri(url, EventPath);
    }

    public override async Task<DeliveryResult> SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        var body = new StringBuilder();
        foreach (var entry in batch)
            body.Append(Envelope(entry));
        using var response = await PostAnyAsync(_url, body.ToString(), "application/json", cancellation, ("Authorization", "Splunk " + _token)).ConfigureAwait(false);
        if (response.StatusCode == System.Net.HttpStatusCode.BadRequest)
        {
            var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
            if (InvalidEvent(text) is { } n && n < batch.Count)
                return new DeliveryResult([.. batch.Where((_, i) => i != n)], [new RejectedAlert(batch[n], "HEC 400: " + text.Trim())]);
            throw new HttpRequestException($"400 Bad Request: {(text.Length > 200 ? text[..200] : text)}", null, response.StatusCode);
        }
        await HttpClients.EnsureAccepted(response, cancellation).ConfigureAwait(false);
        return DeliveryResult.AllAccepted;
    }

    /// <summary>The <c>invalid-event-number</c> of a HEC error answer (0-based), or null.</summary>
    internal static int? InvalidEvent(string response)
    {
        try
        {
            using var doc = JsonDocument.Parse(response);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("invalid-event-number", out var n) && n.TryGetInt32(out var i) && i >= 0 ? i : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string Envelope(SpoolEntry entry)
    {
        using var alert = JsonDocument.Parse(entry.Json);
        var root = alert.RootElement;
        var time = root.TryGetProperty("@timestamp", out var t) && t.TryGetDateTimeOffset(out var ts) ? ts.ToUnixTimeMilliseconds() / 1000.0 : (double?)null;
        var host = root.TryGetProperty("host", out var h) && h.ValueKind == JsonValueKind.Object && h.TryGetProperty("name", out var n) ? n.GetString() : null;
        var envelope = new StringBuilder("{");
        if (time is { } seconds)
            envelope.Append(CultureInfo.InvariantCulture, $"\"time\":{seconds:0.###},");
        if (host is not null)
            envelope.Append("\"host\":").Append(Quote(host)).Append(',');
        envelope.Append("\"source\":\"imdswatch\",\"sourcetype\":").Append(Quote(Settings.SourceType)).Append(',');
        if (Settings.Index is { } index)
            envelope.Append("\"index\":").Append(Quote(index)).Append(',');
        return envelope.Append("\"event\":").Append(entry.Json).Append('}').ToString();
    }

    internal static string Quote(string text) => "\"" + JsonEncodedText.Encode(text, JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"";
}
