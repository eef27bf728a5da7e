using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// An HTTP webhook: each alert is POSTed as its JSON object, with the configured headers and
/// <c>X-Imdswatch-Alert-Id</c> (a receiver can drop a repeat after a retry by that id).
/// </summary>
public sealed class WebhookTarget(SinkSettings settings) : HttpTarget(settings)
{
    public const string IdHeader = "X-Imdswatch-Alert-Id";
    private readonly Uri _url = new(settings.Target ?? throw new InvalidDataException("webhook: a URL is required"));

    public override int MaxBatch => 1;

    public override async Task SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        foreach (var entry in batch)
            (await PostAsync(_url, entry.Json, "application/json", cancellation, (IdHeader, entry.Id)).ConfigureAwait(false)).Dispose();
    }
}
