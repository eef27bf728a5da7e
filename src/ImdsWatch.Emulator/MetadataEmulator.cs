using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ImdsWatch.Emulator;

/// <summary>The emulator as an ASP.NET Core app listening where it is told, logging every request.</summary>
public sealed class MetadataEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly StreamWriter? _log;
    private readonly Lock _logLock = new();

    public MetadataEmulator(EmulatorOptions options, Action<string>? onRequest = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls([.. options.Urls]);
        _app = builder.Build();
        var responder = new MetadataResponder(options, TimeProvider.System);
        if (options.RequestLog is not null)
            _log = new StreamWriter(File.Open(options.RequestLog, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

        _app.Run(async context =>
        {
            var request = new EmulatorRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "/",
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal));
            var response = responder.Respond(request);
            context.Response.StatusCode = response.Status;
            context.Response.ContentType = response.ContentType;
            foreach (var (k, v) in response.Headers)
                context.Response.Headers[k] = v;
            await context.Response.WriteAsync(response.Body);

            var line = new JsonObject
            {
                ["time"] = DateTimeOffset.UtcNow.ToString("O"),
                ["local"] = $"{context.Connection.LocalIpAddress}:{context.Connection.LocalPort}",
                ["remote"] = $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}",
                ["method"] = request.Method,
                ["path"] = request.Path + context.Request.QueryString,
                ["status"] = response.Status,
                ["user_agent"] = request.Header("User-Agent"),
                ["canary"] = response.Status == 200 && response.Body.Contains("CANARY", StringComparison.OrdinalIgnoreCase),
            }.ToJsonString();
            lock (_logLock)
                _log?.WriteLine(line);
            onRequest?.Invoke(line);
        });
    }

    public IEnumerable<string> Urls => _app.Urls;

    public Task StartAsync(CancellationToken cancellation = default) => _app.StartAsync(cancellation);

    public Task StopAsync(CancellationToken cancellation = default) => _app.StopAsync(cancellation);

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _log?.Dispose();
    }
}
