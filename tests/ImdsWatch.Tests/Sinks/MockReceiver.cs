using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ImdsWatch.Tests.Sinks;

/// <summary>
/// A small HTTP receiver on 127.0.0.1 for the sink tests: records every request (method, path, headers, body),
/// answers <see cref="FailFirst"/> requests with 503, then asks <see cref="Respond"/> (default 200 "{}").
/// </summary>
internal sealed class MockReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;
    private int _requests;

    /// <param name="port">A fixed port (a receiver that comes up where the sink already sends), or a free one.</param>
    public MockReceiver(int? port = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            Port = port ?? FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
        _loop = Task.Run(Loop);
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";
    public int FailFirst { get; set; }
    public Func<Request, (int Status, string Body)> Respond { get; set; } = _ => (200, "{}");
    public ConcurrentQueue<Request> Requests { get; } = new();
    public ConcurrentQueue<Request> Accepted { get; } = new();

    public sealed record Request(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var headers = context.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k, k => context.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
            var request = new Request(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, await reader.ReadToEndAsync());
            Requests.Enqueue(request);
            var (status, body) = Interlocked.Increment(ref _requests) <= FailFirst ? (503, "busy") : Respond(request);
            if (status is >= 200 and < 300)
                Accepted.Enqueue(request);
            try
            {
                context.Response.StatusCode = status;
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body));
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // the client gave up (a cancelled attempt): the next request goes on
            }
        }
    }

    /// <summary>The alerts of the accepted webhook requests, in order (bodies that are arrays, NDJSON or one object).</summary>
    public List<System.Text.Json.JsonElement> AcceptedAlerts() => [.. Accepted.SelectMany(r => AlertsOf(r.Body))];

    /// <summary>The alert ids (<c>event.id</c>) of the accepted webhook requests, in order.</summary>
    public List<string> AcceptedIds() => [.. AcceptedAlerts().Select(a => a.GetProperty("event").GetProperty("id").GetString()!)];

    public static List<System.Text.Json.JsonElement> AlertsOf(string body)
    {
        var list = new List<System.Text.Json.JsonElement>();
        var reader = new System.Text.Json.Utf8JsonReader(Encoding.UTF8.GetBytes(body), new System.Text.Json.JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            using var doc = System.Text.Json.JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Array)
                list.AddRange(doc.RootElement.EnumerateArray().Select(e => e.Clone()));
            else
                list.Add(doc.RootElement.Clone());
        }
        return list;
    }

    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>Waits until <paramref name="done"/> holds, up to <paramref name="seconds"/>.</summary>
    public static void WaitFor(Func<bool> done, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done() && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
    }

    public void Dispose()
    {
        _listener.Stop();
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // The managed listener looks its port up again while closing and binds it anew when it is no longer in its
            // table: "Address already in use" when another test took the freed port meanwhile (CI under load). The
            // receiver has stopped already; nothing is left open.
        }
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // the listener's loop ends with the listener
        }
    }
}
