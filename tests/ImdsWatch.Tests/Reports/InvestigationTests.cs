using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Reports;
using ImdsWatch.Runner;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;
using ImdsWatch.Store;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Reports;

public sealed class InvestigationTests
{
    [Fact]
    public void Alerts_show_reads_like_an_analysts_notes_with_this_alerts_facts()
    {
        var dir = Directory.CreateTempSubdirectory("imdswatch-inv-").FullName;
        var log = Path.Combine(dir, "audit.log");
        const double t = 1_700_000_000;
        File.WriteAllText(log,
            $"type=USER_LOGIN msg=audit({t - 600:0.000}:10): pid=9 uid=0 auid=1001 ses=3 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=203.0.113.7 addr=203.0.113.7 terminal=ssh res=success'\n"
            + $"type=USER_CMD msg=audit({t - 300:0.000}:11): pid=10 uid=1001 auid=1001 ses=3 msg='cwd=\"/home/alice\" cmd={Hex("bash -i")} exe=\"/usr/bin/sudo\" terminal=pts/1 res=success'\n"
            + Exec(20, 700, "/usr/bin/bash", ["bash", "-i"], ppid: 600, uid: 0, time: t - 200, auid: 1001)
            + Exec(21, 701, "/usr/bin/curl", ["curl", "-s", "http://169.254.169.254/latest/meta-data/iam/security-credentials/prod-app-role"], ppid: 700, uid: 0, time: t, auid: 1001)
            + Connect(22, 701, "/usr/bin/curl", "169.254.169.254", ppid: 700, time: t + 0.01));
        using var store = StateStore.Open(Path.Combine(dir, "state.db"));
        var report = new ScheduledRunner(store, EffectiveConfig.Default with { Host = "web-1" }, new RunOptions())
            .RunOnce([log], DateTimeOffset.FromUnixTimeSeconds((long)t + 60), new CollectingSink());
        var alert = Assert.Single(report.Raised);
        var stored = new AlertRepository(store).Find(alert.Id[..8], out _)!;

        var notes = Investigation.Write(stored, store);

        Assert.Contains("1. Who and when", notes, StringComparison.Ordinal);
        Assert.Contains("on web-1: user 0, logged in as 1001", notes, StringComparison.Ordinal);
        Assert.Contains("USER_LOGIN alice from 203.0.113.7", notes, StringComparison.Ordinal);
        Assert.Contains("USER_CMD", notes, StringComparison.Ordinal);
        Assert.Contains("ran: bash -i", notes, StringComparison.Ordinal);
        Assert.Contains("← /usr/bin/bash (pid 700): bash -i", notes, StringComparison.Ordinal);
        Assert.Contains("role / identity named in the request: prod-app-role", notes, StringComparison.Ordinal);
        Assert.Contains("program /usr/bin/curl: never seen", notes, StringComparison.Ordinal);
        Assert.Contains("aws iam put-role-policy --role-name prod-app-role --policy-name AWSRevokeOlderSessions", notes, StringComparison.Ordinal);
        Assert.Contains("modify-instance-metadata-options", notes, StringComparison.Ordinal);
        Assert.Contains("Isolate web-1", notes, StringComparison.Ordinal);
        Assert.Contains($"[{log}:", notes, StringComparison.Ordinal);
    }

    [Fact]
    public void Role_is_read_from_aws_and_gcp_credential_paths()
    {
        Assert.Equal("r1", ImdsWatch.Indicators.CredentialPath.RoleOf("http://169.254.169.254/latest/meta-data/iam/security-credentials/r1"));
        Assert.Equal("sa@p.iam.gserviceaccount.com", ImdsWatch.Indicators.CredentialPath.RoleOf("http://metadata/computeMetadata/v1/instance/service-accounts/sa@p.iam.gserviceaccount.com/token"));
        Assert.Null(ImdsWatch.Indicators.CredentialPath.RoleOf("http://169.254.169.254/latest/meta-data/"));
    }
}
