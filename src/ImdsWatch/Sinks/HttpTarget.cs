using System.Net.Http.Headers;
using System.Text;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// What every HTTP receiver shares (webhook, Splunk HEC, Elasticsearch): one client with the sink's TLS options, a
/// POST carrying the configured headers, and anything but a 2xx answer thrown (the spool sends the batch again).
/// </summary>
public abstract class HttpTarget(SinkSettings settings) : IAlertTarget
{
    private readonly HttpClient _client = HttpClients.Create(settings);

    protected SinkSettings Settings => settings;

    public abstract int MaxBatch { get; }

    public abstract Task<DeliveryResult> SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation);

    /// <summary>POSTs <paramref name="body"/>; the response (2xx, else thrown) is the caller's to read and dispose.</summary>
    protected async Task<HttpResponseMessage> PostAsync(Uri url, string body, string contentType, CancellationToken cancellation, params (string Name, string Value)[] headers)
    {
        var response = await PostAnyAsync(url, body, contentType, cancellation, headers).ConfigureAwait(false);
        try
        {
            await HttpClients.EnsureAccepted(response, cancellation).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>POSTs <paramref name="body"/> and returns the response whatever its status (the caller's to dispose).</summary>
    protected async Task<HttpResponseMessage> PostAnyAsync(Uri url, string body, string contentType, CancellationToken cancellation, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType) { CharSet = contentType == "application/json" ? "utf-8" : null };
        foreach (var (name, value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        foreach (var (name, value) in settings.Headers)
            request.Headers.TryAddWithoutValidation(name, value);
        return await _client.SendAsync(request, cancellation).ConfigureAwait(false);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
            _client.Dispose();
    }
}
