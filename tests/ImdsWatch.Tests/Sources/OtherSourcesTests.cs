using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Web;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

public sealed class OtherSourcesTests
{
    private static ScanResult ScanText(string text, string name) =>
        new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(Audit.WriteTemp(text, name), Audit.WriteTemp(text, name))]);

    [Fact]
    public void Nginx_combined_log_ssrf_attempts_in_any_spelling_alert_with_client_and_answer()
    {
        var log = """
            203.0.113.50 - - [24/Nov/2026:10:00:00 +0000] "GET /fetch?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2Fapp-role HTTP/1.1" 200 1290 "-" "python-requests/2.31"
            203.0.113.50 - - [24/Nov/2026:10:00:01 +0000] "GET /fetch?url=http://0xA9FEA9FE/latest/user-data HTTP/1.1" 502 0 "-" "python-requests/2.31"
            198.51.100.1 - - [24/Nov/2026:10:00:02 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "Mozilla/5.0"
            """;
        var result = ScanText(log, "access.log");
        var alert = Assert.Single(result.Alerts);
        Assert.Equal(SsrfRule.Type, alert.AlertType);
        Assert.Equal("203.0.113.50", alert.Source);
        Assert.Equal(ImdsWatch.Indicators.AccessClass.Credentials, alert.Access);
        Assert.Contains("answered", alert.Tags);
        Assert.Contains("evasion:numericspelling", alert.Tags);
        Assert.Equal(2, alert.Evidence.Count);
        Assert.Equal(3, result.HttpRequests);
    }

    [Fact]
    public void Alb_and_squid_logs_are_read()
    {
        var alb = "http 2026-11-24T10:00:00.186641Z app/my-lb/50dc6c495c0c9188 198.51.100.9:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://app.example.com:80/proxy?target=http://169.254.169.254/latest/meta-data/ HTTP/1.1\" \"curl/8.0\" - - arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1 \"Root=1-58337262\" \"-\" \"-\" 0 2026-11-24T10:00:00.000000Z \"forward\" \"-\" \"-\" \"10.0.0.1:80\" \"200\" \"-\" \"-\"";
        Assert.Equal("198.51.100.9", Assert.Single(ScanText(alb + "\n", "alb.log").Alerts).Source);
        var squid = "1795526079.779    180 10.0.0.7 TCP_MISS/200 411 GET http://169.254.169.254/latest/meta-data/iam/security-credentials/ - HIER_DIRECT/169.254.169.254 text/plain";
        var alert = Assert.Single(ScanText(squid + "\n", "access.log").Alerts);
        Assert.Equal("10.0.0.7", alert.Source);
    }

    [Fact]
    public void Ecs_process_and_network_events_go_through_the_same_layers()
    {
        var ecs = """
            {"@timestamp":"2026-11-24T10:00:00.000Z","event":{"category":["process"],"type":["start"],"action":"exec"},"host":{"name":"web-2"},"user":{"id":"1001","name":"deploy"},"process":{"pid":4242,"parent":{"pid":4200},"executable":"/usr/bin/curl","name":"curl","args":["curl","-s","http://169.254.169.254/latest/meta-data/iam/security-credentials/"]}}
            {"@timestamp":"2026-11-24T10:00:00.010Z","event":{"category":["network"],"type":["connection"],"action":"connected-to"},"host":{"name":"web-2"},"user":{"id":"1001"},"process":{"pid":4242,"executable":"/usr/bin/curl","name":"curl"},"destination":{"ip":"169.254.169.254","port":80}}
            {"@timestamp":"2026-11-24T10:05:00.000Z","event":{"category":["network"]},"host":{"name":"web-2"},"process":{"pid":5000,"executable":"/usr/local/bin/sdk-app"},"destination":{"ip":"169.254.170.2","port":80}}
            """;
        var result = ScanText(ecs, "events.ndjson");
        Assert.Equal(2, result.Alerts.Count);
        var curl = result.Alerts[0];
        Assert.Equal(AlertType.MetadataAPIProcess, curl.AlertType);
        Assert.Equal([Layer.Process, Layer.Network], curl.Layers);
        Assert.Equal("web-2", curl.Host);
        Assert.Equal("deploy", curl.Process.User.Name);
        Assert.Equal(AlertType.MetadataAPINetwork, result.Alerts[1].AlertType);
        Assert.Equal("aws-ecs-credentials", result.Alerts[1].EndpointId);
    }

    [Fact]
    public void Syslog_carries_relayed_audit_records_netfilter_sysmon_and_mentions()
    {
        var hex = Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes("curl\0http://169.254.169.254/latest/meta-data/iam/security-credentials/"));
        var syslog = $"""
            Nov 24 10:00:00 web-3 kernel: [ 100.1] audit: type=1300 audit(1795600000.100:900): arch=c000003e syscall=42 success=no exit=-115 a0=5 a1=1 a2=10 a3=0 items=0 ppid=1 pid=777 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm="curl" exe="/usr/bin/curl" key="imds"
            Nov 24 10:00:00 web-3 kernel: [ 100.1] audit: type=1306 audit(1795600000.100:900): saddr=02000050A9FEA9FE0000000000000000
            Nov 24 10:00:00 web-3 kernel: [ 100.1] audit: type=1327 audit(1795600000.100:900): proctitle={hex}
            Nov 24 10:00:01 web-3 kernel: [ 101.0] IMDS-OUT: IN= OUT=eth0 SRC=10.0.0.5 DST=169.254.169.254 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=80 WINDOW=64240 RES=0x00 SYN URGP=0 UID=1001 GID=1001
            2026-11-24T10:00:02.000000+00:00 web-3 sysmon: <Event><System><EventID>3</EventID><Computer>web-3</Computer></System><EventData><Data Name="UtcTime">2026-11-24 10:00:02.000</Data><Data Name="ProcessId">888</Data><Data Name="Image">/usr/bin/python3.11</Data><Data Name="User">app</Data><Data Name="DestinationIp">169.254.169.254</Data><Data Name="DestinationPort">80</Data></EventData></Event>
            <14>1 2026-11-24T10:00:03Z web-3 myapp 999 - - fetching http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role
            <14>1 2026-11-24T10:00:04Z web-3 amazon-ssm-agent 1000 - - refreshed credentials from http://169.254.169.254/latest/meta-data/iam/security-credentials/
            """;
        var result = ScanText(syslog, "syslog");
        Assert.Contains(result.Alerts, a => a.Process.Executable == "/usr/bin/curl" && a.Host == "web-3" && a.Access == ImdsWatch.Indicators.AccessClass.Connect);
        Assert.Contains(result.Alerts, a => a.Process.Name == "(packet)" && a.Process.User.Uid == 1001);
        Assert.Contains(result.Alerts, a => a.Process.Executable == "/usr/bin/python3.11" && a.Process.User.Name == "app");
        var mention = Assert.Single(result.Alerts, a => a.Layers.Contains(Layer.Syslog));
        Assert.Equal("myapp", mention.Process.Name);
        Assert.Equal(1, result.Detection.AllowedByAgent["syslog lines of agents"]);
        Assert.Empty(result.Issues);
    }

    [Theory]
    [InlineData("type=SYSCALL msg=audit(1.000:1): arch=c000003e", LogFormat.Auditd)]
    [InlineData("node=h type=EOE msg=audit(1.000:1):", LogFormat.Auditd)]
    [InlineData("{\"Records\":[]}", LogFormat.CloudTrail)]
    [InlineData("{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\"}", LogFormat.CloudTrail)]
    [InlineData("{\"@timestamp\":\"2026-11-24T10:00:00Z\",\"process\":{\"pid\":1}}", LogFormat.Ecs)]
    [InlineData("1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\"", LogFormat.WebAccess)]
    [InlineData("Nov 24 10:00:00 host sshd[1]: Accepted publickey", LogFormat.Syslog)]
    [InlineData("hello", LogFormat.Unknown)]
    public void Format_is_detected_from_the_first_lines(string line, LogFormat format) => Assert.Equal(format, FormatDetector.Detect([line]));
}
