using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using ImdsWatch.Sinks;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Tests.Sinks;

public sealed class SyslogSinkTests
{
    [Fact]
    public void Udp_syslog_sends_one_rfc5424_message_per_alert_with_the_id_as_structured_data()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        using var dir = new TestAlerts.TempDir();
        var settings = new SinkSettings { Kind = SinkKind.Syslog, Target = $"udp://127.0.0.1:{port}", Name = "syslog" };
        using var sink = new SpooledSink(settings, new SyslogTarget(settings), new DiskSpool(Path.Combine(dir.Path, "s"), 1 << 20));
        sink.Emit(TestAlerts.Make(1, ImdsWatch.Alerts.Severity.Critical));
        sink.Emit(TestAlerts.Make(2, ImdsWatch.Alerts.Severity.Medium));
        server.Client.ReceiveTimeout = 10_000;
        var from = new IPEndPoint(IPAddress.Any, 0);
        var first = Encoding.UTF8.GetString(server.Receive(ref from));
        var second = Encoding.UTF8.GetString(server.Receive(ref from));
        sink.Complete();

        // <local0*8 + crit(2)>1 TIMESTAMP HOST APP PID MSGID [SD] MSG
        Assert.Matches(new Regex(@"^<130>1 2026-11-30T12:00:01\.000Z \S+ imdswatch \d+ alert \[imdswatch@32473 id=""alert0001"" severity=""critical""\] \{.*\}$"), first);
        Assert.StartsWith("<132>1 ", second, StringComparison.Ordinal); // medium is warning (4)
        Assert.Contains("\"id\":\"alert0002\"", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tcp_syslog_frames_each_message_by_its_octet_count()
    {
        var entry = new SpoolEntry("a1", "{\"x\":\"é\"}", 0, 0);
        var message = SyslogTarget.Format(entry, "host-1");
        Assert.StartsWith("<133>1 - host-1 imdswatch ", message, StringComparison.Ordinal); // no severity, no time: notice, nil
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var settings = new SinkSettings { Kind = SinkKind.Syslog, Target = $"tcp://127.0.0.1:{port}", Name = "syslog" };
            using var target = new SyslogTarget(settings);
            var send = target.SendAsync([entry, entry with { Id = "a2" }], CancellationToken.None);
            using var client = await listener.AcceptTcpClientAsync();
            await send.WaitAsync(TimeSpan.FromSeconds(10));
            target.Dispose();
            using var memory = new MemoryStream();
            await client.GetStream().CopyToAsync(memory);
            var expected = new List<byte>();
            foreach (var e in new[] { entry, entry with { Id = "a2" } })
            {
                var bytes = Encoding.UTF8.GetBytes(SyslogTarget.Format(e, Environment.MachineName));
                expected.AddRange(Encoding.ASCII.GetBytes($"{bytes.Length} "));
                expected.AddRange(bytes);
            }
            Assert.Equal(expected, memory.ToArray());
        }
        finally
        {
            listener.Stop();
        }
    }
}
