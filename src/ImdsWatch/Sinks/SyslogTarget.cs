using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// Syslog, RFC 5424: <c>&lt;PRI&gt;1 TIMESTAMP HOST imdswatch PID alert [imdswatch@32473 id=".." severity=".."] JSON</c>,
/// facility local0, the alert's severity as the syslog severity. UDP: a datagram per alert. TCP: octet-counted
/// frames (RFC 6587 3.4.1), the connection kept and reopened after a failure. unix:///dev/log: a datagram per
/// alert to the local syslog socket (rsyslog's imuxsock parses RFC 5424; journald keeps the message as it is).
/// </summary>
public sealed class SyslogTarget(SinkSettings settings) : IAlertTarget
{
    private const int Facility = 16; // local0
    private readonly Uri _url = ParseUrl(settings.Target);
    private readonly string _hostName = Environment.MachineName;
    private Socket? _socket;

    private bool Datagrams => _url.Scheme is "udp" or "unix";

    public int MaxBatch => Datagrams ? 1 : 100;

    public static Uri ParseUrl(string? target)
    {
        if (target is not null && Uri.TryCreate(target, UriKind.Absolute, out var url)
            && (url.Scheme is "udp" or "tcp" ? url.Port > 0 : url.Scheme == "unix" && url.AbsolutePath.Length > 1))
            return url;
        throw new InvalidDataException($"syslog: '{target}' is not udp://HOST:PORT, tcp://HOST:PORT or unix:///dev/log");
    }

    public async Task<DeliveryResult> SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation)
    {
        try
        {
            var socket = await Connect(cancellation).ConfigureAwait(false);
            foreach (var entry in batch)
            {
                var message = Encoding.UTF8.GetBytes(Format(entry, _hostName));
                if (Datagrams)
                {
                    await socket.SendAsync(message.AsMemory(0, Math.Min(message.Length, 65_000)), SocketFlags.None, cancellation).ConfigureAwait(false);
                    continue;
                }
                var frame = Encoding.ASCII.GetBytes(message.Length.ToString(CultureInfo.InvariantCulture) + " ");
                await socket.SendAsync(frame.Concat(message).ToArray(), SocketFlags.None, cancellation).ConfigureAwait(false);
            }
            return DeliveryResult.AllAccepted;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            _socket?.Dispose();
            _socket = null;
            throw new IOException($"syslog {_url}: {e.Message}", e);
        }
    }

    /// <summary>One RFC 5424 message for a spooled alert.</summary>
    public static string Format(SpoolEntry entry, string hostName)
    {
        using var alert = JsonDocument.Parse(entry.Json);
        var root = alert.RootElement;
        // imds.severity; a spool written before ECS conformance had it at the root
        var holder = root.TryGetProperty("imds", out var imds) && imds.ValueKind == JsonValueKind.Object && imds.TryGetProperty("severity", out _) ? imds : root;
        var severity = holder.TryGetProperty("severity", out var sv) && sv.ValueKind == JsonValueKind.String ? sv.GetString() ?? "low" : "low";
        var code = severity switch { "critical" => 2, "high" => 3, "medium" => 4, _ => 5 };
        var timestamp = root.TryGetProperty("@timestamp", out var t) ? t.GetString() : null;
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return $"<{Facility * 8 + code}>1 {timestamp ?? "-"} {SdSafe(hostName, 255)} imdswatch {pid} alert [imdswatch@32473 id=\"{Param(entry.Id)}\" severity=\"{Param(severity)}\"] {entry.Json}";
    }

    private static string SdSafe(string s, int max)
    {
        var printable = new string(s.Where(c => c is > ' ' and < (char)127).Take(max).ToArray());
        return printable.Length == 0 ? "-" : printable;
    }

    private static string Param(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("]", "\\]", StringComparison.Ordinal);

    private async Task<Socket> Connect(CancellationToken cancellation)
    {
        if (_socket is not null)
            return _socket;
        var socket = _url.Scheme switch
        {
            "udp" => new Socket(SocketType.Dgram, ProtocolType.Udp),
            "unix" => new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified),
            _ => new Socket(SocketType.Stream, ProtocolType.Tcp),
        };
        try
        {
            if (_url.Scheme == "unix")
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(Uri.UnescapeDataString(_url.AbsolutePath)), cancellation).ConfigureAwait(false);
            else
                await socket.ConnectAsync(_url.IdnHost, _url.Port, cancellation).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return _socket = socket;
    }

    public void Dispose() => _socket?.Dispose();
}
