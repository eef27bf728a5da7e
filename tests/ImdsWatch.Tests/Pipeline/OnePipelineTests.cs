using System.Text.Json;
using ImdsWatch.Alerts;
using ImdsWatch.Cli;
using ImdsWatch.Detection.Chain;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Pipeline;

/// <summary>Every command runs the same pipeline with the same configuration: what scan raises, run raises.</summary>
public sealed class OnePipelineTests : IDisposable
{
    // 2026-11-24 10:00:00 UTC
    private const double T = 1795514400;
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static List<JsonElement> Alerts(string ndjson) =>
        ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static AlertType TypeOf(JsonElement a) => Enum.Parse<AlertType>(a.GetProperty("imds").GetProperty("alert_type").GetString()!);

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string StolenSessionTrail() => Write("trail.json", Trail.Records(
        Trail.Call("GetCallerIdentity", "198.51.100.7", "2026-11-24T10:20:00Z", eventSource: "sts.amazonaws.com", delivery: "1.0"),
        Trail.Call("ListBuckets", "198.51.100.7", "2026-11-24T10:20:05Z", delivery: "1.0", userAgent: "aws-cli/2.15 Python/3.11 Darwin/23.1.0")));

    [Fact]
    public void Run_honours_the_configs_cloudtrail_section_and_min_severity_as_scan_does()
    {
        var logs = Path.Combine(_dir, "logs");
        Directory.CreateDirectory(logs);
        File.Move(StolenSessionTrail(), Path.Combine(logs, "trail.json"));
        var config = Write("config.yaml", "min_severity: medium\ncloudtrail:\n  trusted_cidrs: [198.51.100.7/32]\n");

        var unconfigured = Cli("scan", logs, "--format", "ndjson", "--no-baseline");
        Assert.Contains(Alerts(unconfigured.Out), a => TypeOf(a) == CloudTrailRules.Exfiltration);

        var scan = Cli("scan", logs, "--format", "ndjson", "--no-baseline", "--config", config);
        Assert.Equal(0, scan.Code);
        Assert.Empty(Alerts(scan.Out)); // the exfiltration is trusted, the IMDSv1 alert (low) is below medium

        var run = Cli("run", "--once", Path.Combine(logs, "trail.json"), "--config", config, "--state", Path.Combine(_dir, "state.db"),
            "--now", "2026-11-24T10:30:00Z");
        Assert.Equal(0, run.Code);
        Assert.Empty(Alerts(run.Out));
    }

    [Fact]
    public void Scan_and_run_once_over_the_same_input_and_window_raise_the_same_alerts()
    {
        var audit = Write("audit.log", Week.Nodes(
            Exec(10, 700, "/usr/bin/curl", ["curl", "-s", "http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role"], time: T)
            + Connect(11, 700, "/usr/bin/curl", "169.254.169.254", time: T + 0.01)
            + Connect(12, 800, "/usr/bin/python3.11", "169.254.169.254", tty: "(none)", time: T + 5), "web-1"));
        var trail = StolenSessionTrail();
        var scan = Cli("scan", audit, trail, "--format", "ndjson", "--no-baseline");
        var run = Cli("run", "--once", audit, trail, "--state", Path.Combine(_dir, "state.db"), "--now", "2026-11-24T10:30:00Z", "--lookback", "2h", "--no-learn");
        var scanned = Alerts(scan.Out).Select(a => a.GetProperty("imds").GetProperty("alert_id").GetString()).Order(StringComparer.Ordinal).ToList();
        var raised = Alerts(run.Out).Select(a => a.GetProperty("imds").GetProperty("alert_id").GetString()).Order(StringComparer.Ordinal).ToList();
        Assert.True(scanned.Count >= 4, scan.Out + scan.Err);
        Assert.Equal(scanned, raised);
        Assert.Contains(Alerts(run.Out), a => TypeOf(a) == CredentialTheftChain.Type);
    }

    [Fact]
    public void Events_reads_every_format_scan_reads_and_skips_blank_lines_alike()
    {
        var syslog = Write("syslog", "Nov 24 10:00:00 web-1 app[12]: fetched http://169.254.169.254/latest/meta-data/\n   \nNov 24 10:00:01 web-1 sshd[1]: Accepted publickey for admin\n");
        var web = Write("access.log", "203.0.113.50 - - [24/Nov/2026:10:00:00 +0000] \"GET /fetch?url=http://169.254.169.254/ HTTP/1.1\" 200 12 \"-\" \"curl/8\"\n");
        var trail = StolenSessionTrail();
        var audit = Write("audit.log", Exec(10, 700, "/usr/bin/id", ["id"], time: T) + " \t \n");
        var events = Cli("events", syslog, web, trail, audit);
        Assert.Equal(0, events.Code);
        Assert.DoesNotContain("type=", events.Err, StringComparison.Ordinal);
        Assert.Equal("", events.Err);
        var kinds = Alerts(events.Out).Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal(2, kinds.Count(k => k == "message"));
        Assert.Equal(1, kinds.Count(k => k == "http"));
        Assert.Equal(2, kinds.Count(k => k == "api-call"));
        Assert.Equal(1, kinds.Count(k => k == "exec"));
        var scan = Cli("scan", audit, "--format", "ndjson", "--no-baseline");
        Assert.DoesNotContain("could not be read", scan.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_chain_joins_only_a_fetch_of_the_same_role_and_takes_the_time_of_the_use()
    {
        // An SSRF fetched the canary role's credentials; CloudTrail shows app-role's session used elsewhere.
        var web = Write("access.log",
            "203.0.113.50 - - [24/Nov/2026:09:00:00 +0000] \"GET /fetch?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2Fimdswatch-canary-role HTTP/1.1\" 200 1290 \"-\" \"curl/8\"\n");
        var trail = StolenSessionTrail();
        var unrelated = Alerts(Cli("scan", web, trail, "--format", "ndjson", "--no-baseline").Out);
        Assert.Contains(unrelated, a => TypeOf(a) == AlertType.MetadataSSRFAttempt);
        Assert.DoesNotContain(unrelated, a => TypeOf(a) == CredentialTheftChain.Type);

        var same = Write("access2.log",
            "203.0.113.50 - - [24/Nov/2026:09:00:00 +0000] \"GET /fetch?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2Fiam%2Fsecurity-credentials%2Fapp-role HTTP/1.1\" 200 1290 \"-\" \"curl/8\"\n");
        var joined = Alerts(Cli("scan", same, trail, "--format", "ndjson", "--no-baseline").Out);
        var chain = Assert.Single(joined, a => TypeOf(a) == CredentialTheftChain.Type);
        Assert.Equal("2026-11-24T10:20:00.000Z", chain.GetProperty("@timestamp").GetString());
    }

    [Fact]
    public void Every_alert_has_its_own_event_id_even_over_the_same_cloudtrail_records()
    {
        var alerts = Alerts(Cli("scan", StolenSessionTrail(), "--format", "ndjson", "--no-baseline").Out);
        Assert.Contains(alerts, a => TypeOf(a) == CloudTrailRules.Exfiltration);
        Assert.Contains(alerts, a => TypeOf(a) == CloudTrailRules.ImdsV1Delivery);
        var ids = alerts.Select(a => a.GetProperty("event").GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(alerts, a => Assert.Equal(a.GetProperty("imds").GetProperty("alert_id").GetString(), a.GetProperty("event").GetProperty("id").GetString()));
    }
}
