using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// Splunk HTTP Event Collector: a batch is one POST to <c>/services/collector/event</c> with
/// <c>Authorization: Splunk TOKEN</c>, the events concatenated, each with time, host, source, sourcetype, index.
/// </summary>
public sealed class SplunkHecTarget(SinkSettings settings) : HttpTarget(settings)
{
    public const string EventPath = "/services/collector/event";
    private readonly Uri _url = EndpointOf(settings.Target ?? throw new InvalidDataException("hec: a URL is required"));
    private readonly string _token = settings.Token ?? throw new InvalidDataException("hec: a token is required (token:, or IMDSWATCH_HEC_TOKEN)");

    public override int MaxBatch => 500;

    /// <summary>The base URL as given, or already ending in the event path.</summary>
    public static Uri EndpointOf(string target)
    {
        var url = new Uri(target);
        return url.AbsolutePath.TrimEnd('/').EndsWith(EventPath, StringComparison.Ordinal) ? url : new Uri(url, EventPath);
    }

    public override async Task SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        var body = new StringBuilder();
        foreach (var entry in batch)
            body.Append(Envelope(entry));
        (await PostAsync(_url, body.ToString(), "application/json", cancellation, ("Authorization", "Splunk " + _token)).ConfigureAwait(false)).Dispose();
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
