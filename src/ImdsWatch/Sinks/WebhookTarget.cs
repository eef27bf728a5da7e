using System.Text;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// An HTTP webhook: each alert is POSTed as its JSON object, with the configured headers and
/// <c>X-Imdswatch-Alert-Id</c> (a receiver can drop a repeat after a retry by that id).
/// </summary>
public sealed class WebhookTarget(SinkSettings settings) : IAlertTarget
{
    public const string IdHeader = "X-Imdswatch-Alert-Id";
    private readonly HttpClient _client = HttpClients.Create(settings);
    private readonly Uri _url = new(settings.Target ?? throw new InvalidDataException("webhook: a URL is required"));

    public int MaxBatch => 1;

    public async Task SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        foreach (var entry in batch)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new StringContent(entry.Json, Encoding.UTF8, "application/json") };
            foreach (var (name, value) in settings.Headers)
                request.Headers.TryAddWithoutValidation(name, value);
            request.Headers.TryAddWithoutValidation(IdHeader, entry.Id);
            using var response = await _client.SendAsync(request, cancellation).ConfigureAwait(false);
            await HttpClients.EnsureAccepted(response, cancellation).ConfigureAwait(false);
        }
    }

    public void Dispose() => _client.Dispose();
}
