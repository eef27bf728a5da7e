using ImdsWatch.Alerts;
using ImdsWatch.Cli;
using ImdsWatch.Detection.Chain;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Detection.Chain;

public sealed class ChainTests
{
    [Fact]
    public void A_mixed_directory_of_audit_syslog_cloudtrail_and_nginx_yields_the_correlated_incident()
    {
        var dir = Directory.CreateTempSubdirectory("imdswatch-mixed-").FullName;
        // 2026-11-24 10:00:00 UTC
        const double t = 1795600800;
        File.WriteAllText(Path.Combine(dir, "audit.log"), Week.Nodes(
            Exec(10, 700, "/usr/bin/python3.11", ["python3", "/srv/app/app.py"], tty: "(none)", time: t - 3600)
            + Connect(11, 700, "/usr/bin/python3.11", "169.254.169.254", tty: "(none)", time: t), "web-1"));
        File.WriteAllText(Path.Combine(dir, "access.log"),
            "203.0.113.50 - - [24/Nov/2026:10:00:00 +0000] \"GET /fetch?url=http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role HTTP/1.1\" 200 1290 \"-\" \"python-requests/2.31\"\n");
        File.WriteAllText(Path.Combine(dir, "syslog"), "Nov 24 09:59:00 web-1 sshd[1]: Accepted publickey for admin from 10.0.0.9 port 5000\n");
        File.WriteAllText(Path.Combine(dir, "cloudtrail.json"), Trail.Records(
            Trail.Call("GetCallerIdentity", "203.0.113.50", "2026-11-24T10:20:00Z", eventSource: "sts.amazonaws.com", userAgent: "aws-cli/2.15 Python/3.11 Darwin/23.1.0"),
            Trail.Call("ListBuckets", "203.0.113.50", "2026-11-24T10:20:05Z", userAgent: "aws-cli/2.15 Python/3.11 Darwin/23.1.0")));

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(1, Program.Run(["scan", dir, "--format", "ndjson", "--fail-on-alert", "--no-baseline"], stdout, stderr));
        var alerts = stdout.ToString().Trim().Split('\n').Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        var types = alerts.Select(a => a.GetProperty("imds").GetProperty("alert_type").GetString()).ToList();
        Assert.Contains("MetadataSSRFAttempt", types);
        Assert.Contains("InstanceCredentialExfiltration", types);
        Assert.Contains("MetadataAPINetwork", types);
        var chain = Assert.Single(alerts, a => a.GetProperty("imds").GetProperty("alert_type").GetString() == nameof(AlertType.CredentialTheftChain));
        Assert.Equal("critical", chain.GetProperty("severity").GetString());
        var layers = chain.GetProperty("imds").GetProperty("layers").EnumerateArray().Select(l => l.GetString()).ToList();
        Assert.Contains("web", layers);
        Assert.Contains("cloud", layers);
        Assert.Contains("app-role", chain.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("formats: ", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void No_chain_is_claimed_when_nothing_on_the_host_or_web_side_names_the_role()
    {
        var dir = Directory.CreateTempSubdirectory("imdswatch-nochain-").FullName;
        File.WriteAllText(Path.Combine(dir, "cloudtrail.json"), Trail.Records(
            Trail.Call("ListBuckets", "203.0.113.50", "2026-11-24T10:20:05Z", userAgent: "aws-cli/2.15 Python/3.11 Darwin/23.1.0")));
        var stdout = new StringWriter();
        Program.Run(["scan", dir, "--format", "ndjson", "--no-baseline"], stdout, new StringWriter());
        Assert.DoesNotContain(nameof(AlertType.CredentialTheftChain), stdout.ToString(), StringComparison.Ordinal);
        Assert.Contains("InstanceCredentialExfiltration", stdout.ToString(), StringComparison.Ordinal);
    }
}
