using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ImdsWatch.Sinks;
using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Tests.Sinks;

/// <summary>Debian's rsyslogd on the path; without it the test is skipped, except in CI (test.sh installs it).</summary>
public sealed class RsyslogFactAttribute : FactAttribute
{
    public RsyslogFactAttribute()
    {
        if (RsyslogTests.Daemon is null && Environment.GetEnvironmentVariable("CI") is null)
            Skip = "rsyslogd is not installed (apt-get install rsyslog; test.sh does it as root)";
    }
}

/// <summary>
/// Syslog for real: Debian's rsyslog started by the test with its own configuration and PID file, listening on
/// 127.0.0.1 (UDP and TCP) and on a unix socket of its own, writing what it receives to a file the test reads.
/// Stopped by its PID.
/// </summary>
public sealed class RsyslogTests
{
    internal static string? Daemon => new[] { "/usr/sbin/rsyslogd", "/sbin/rsyslogd" }.FirstOrDefault(File.Exists);

    private static int FreePort(SocketType type, ProtocolType protocol)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    [RsyslogFact]
    public void Rsyslog_receives_rfc5424_alerts_over_udp_tcp_and_its_local_socket_and_writes_them_to_its_file()
    {
        Assert.True(Daemon is not null, "rsyslogd is not installed (CI installs it through test.sh)");
        using var dir = new TestAlerts.TempDir();
        var (udp, tcp) = (FreePort(SocketType.Dgram, ProtocolType.Udp), FreePort(SocketType.Stream, ProtocolType.Tcp));
        var socketPath = Path.Combine(dir.Path, "log.sock");
        var output = Path.Combine(dir.Path, "received.log");
        var pidFile = Path.Combine(dir.Path, "rsyslogd.pid");
        File.WriteAllText(Path.Combine(dir.Path, "rsyslog.conf"), $$"""
            global(workDirectory="{{dir.Path}}")
            module(load="imudp")
            module(load="imtcp")
            module(load="imuxsock" SysSock.Use="off")
            input(type="imudp" address="127.0.0.1" port="{{udp}}")
            input(type="imtcp" address="127.0.0.1" port="{{tcp}}")
            input(type="imuxsock" Socket="{{socketPath}}" UseSpecialParser="off" ParseHostname="on")
            template(name="fields" type="string" string="%pri% %app-name% %msgid% %structured-data% %msg%\n")
            *.* action(type="omfile" file="{{output}}" template="fields")
            """);
        var psi = new ProcessStartInfo(Daemon!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-n", "-f", Path.Combine(dir.Path, "rsyslog.conf"), "-i", pidFile })
            psi.ArgumentList.Add(a);
        using var rsyslog = Process.Start(psi)!;
        var stderr = rsyslog.StandardError.ReadToEndAsync();
        try
        {
            MockReceiver.WaitFor(() => File.Exists(socketPath) && CanConnect(tcp), 30);
            Assert.True(File.Exists(socketPath), "rsyslogd did not start");
            var targets = new[] { $"udp://127.0.0.1:{udp}", $"tcp://127.0.0.1:{tcp}", $"unix://{socketPath}" };
            for (var i = 0; i < targets.Length; i++)
            {
                var settings = new SinkSettings { Kind = SinkKind.Syslog, Target = targets[i], Name = $"syslog{i}" };
                using var sink = new SpooledSink(settings, new SyslogTarget(settings), new DiskSpool(Path.Combine(dir.Path, $"spool{i}"), 1 << 20));
                sink.Emit(TestAlerts.Make(i + 1, ImdsWatch.Alerts.Severity.Critical));
                sink.Complete();
                Assert.Equal(1, sink.Delivered);
            }
            MockReceiver.WaitFor(() => File.Exists(output) && File.ReadAllLines(output).Count(l => l.Contains("alert000", StringComparison.Ordinal)) >= targets.Length, 30);
            var lines = File.Exists(output) ? File.ReadAllLines(output) : [];
            for (var i = 1; i <= targets.Length; i++)
            {
                // rsyslog parsed the RFC 5424 header: PRI local0.crit = 130, APP-NAME, MSGID, the structured data
                var line = Assert.Single(lines, l => l.Contains($"id=\"alert000{i}\"", StringComparison.Ordinal));
                Assert.StartsWith($"130 imdswatch alert [imdswatch@32473 id=\"alert000{i}\" severity=\"critical\"] {{", line, StringComparison.Ordinal);
                Assert.Contains($"\"alert_id\":\"alert000{i}\"", line, StringComparison.Ordinal);
            }
        }
        finally
        {
            if (!rsyslog.HasExited)
            {
                Process.Start("kill", ["-TERM", rsyslog.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                if (!rsyslog.WaitForExit(TimeSpan.FromSeconds(10)))
                    rsyslog.Kill();
            }
            rsyslog.WaitForExit();
        }
        _ = stderr.Result;
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
