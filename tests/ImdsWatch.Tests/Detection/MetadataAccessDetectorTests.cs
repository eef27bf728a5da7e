using System.Net;
using ImdsWatch.Alerts;
using ImdsWatch.Indicators;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Detection;

public sealed class MetadataAccessDetectorTests
{
    private const string Creds = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";

    [Fact]
    public void Exec_and_connect_of_one_process_are_one_alert_with_both_pieces_of_evidence()
    {
        var a = Assert.Single(AlertsOf(Exec(10, 500, "/usr/bin/curl", ["curl", "-s", Creds]) + Connect(11, 500, "/usr/bin/curl", "169.254.169.254")));
        Assert.Equal(AlertType.MetadataAPIProcess, a.AlertType);
        Assert.Equal([Layer.Process, Layer.Network], a.Layers);
        Assert.Equal(AccessClass.Credentials, a.Access);
        Assert.Equal(IPAddress.Parse("169.254.169.254"), a.DestinationIp);
        Assert.Equal(80, a.DestinationPort);
        Assert.Equal(["exec", "connect"], a.Evidence.Select(e => e.Kind));
        Assert.Equal("attempt", a.Outcome);
        Assert.Equal("aws", a.CloudProvider);
        Assert.Equal(Creds, a.Url);
    }

    [Fact]
    public void Connect_without_url_on_the_command_line_is_a_network_alert()
    {
        var a = Assert.Single(AlertsOf(Exec(10, 600, "/usr/bin/python3.11", ["python3", "/srv/job/fetch.py"], tty: "(none)") + Connect(11, 600, "/usr/bin/python3.11", "169.254.169.254")));
        Assert.Equal(AlertType.MetadataAPINetwork, a.AlertType);
        Assert.Equal(AccessClass.Connect, a.Access);
        Assert.Equal("python3 /srv/job/fetch.py", a.Process.CommandLine);
        Assert.Contains("first-seen", a.Tags);
    }

    [Fact]
    public void Connect_of_a_process_whose_exec_was_not_logged_uses_its_proctitle()
    {
        var a = Assert.Single(AlertsOf(Connect(11, 700, "/usr/local/bin/agentx", "169.254.169.254", proctitleHex: Hex("agentx\0--daemon"))));
        Assert.Equal(["agentx", "--daemon"], a.Process.Args);
        Assert.Contains("non-interactive", a.Tags);
        Assert.Equal(Severity.Low, a.Severity);
    }

    [Fact]
    public void Connects_to_other_addresses_raise_nothing()
    {
        Assert.Empty(AlertsOf(Exec(10, 500, "/usr/bin/curl", ["curl", "https://example.com/"]) + Connect(11, 500, "/usr/bin/curl", "93.184.216.34", 443)));
    }

    [Fact]
    public void Ipv6_and_mapped_connects_are_metadata_connects()
    {
        var alerts = AlertsOf(Connect(11, 800, "/usr/bin/curl", "fd00:ec2::254") + Connect(12, 801, "/usr/bin/curl", "::ffff:169.254.169.254"));
        Assert.Equal(2, alerts.Count);
        Assert.Contains(alerts, a => a.Tags.Contains("evasion:ipv6embedding") && a.DestinationIp!.Equals(IPAddress.Parse("169.254.169.254")));
    }

    [Fact]
    public void Wrapper_exec_in_the_same_process_and_sudo_child_fold_into_the_alert_of_the_command()
    {
        var text = Exec(10, 900, "/usr/bin/ip", ["ip", "netns", "exec", "lab", "curl", Creds])
            + Exec(11, 900, "/usr/bin/curl", ["curl", Creds])
            + Connect(12, 900, "/usr/bin/curl", "169.254.169.254")
            + Exec(20, 910, "/usr/bin/sudo", ["sudo", "-u", "bob", "wget", Creds], time: 1700000001.0)
            + Exec(21, 911, "/usr/bin/wget", ["wget", Creds], ppid: 910, uid: 1001, time: 1700000001.002)
            + Connect(22, 911, "/usr/bin/wget", "169.254.169.254", ppid: 910, uid: 1001, time: 1700000001.003);
        var alerts = AlertsOf(text);
        Assert.Equal(2, alerts.Count);
        Assert.Equal("/usr/bin/curl", alerts[0].Process.Executable);
        Assert.Equal(3, alerts[0].Evidence.Count);
        Assert.Equal("/usr/bin/wget", alerts[1].Process.Executable);
        Assert.Equal(1001, alerts[1].Process.User.Uid);
        Assert.Equal("/usr/bin/sudo", alerts[1].Parent!.Executable);
    }

    [Fact]
    public void Failed_exec_attempts_during_path_search_are_not_the_process()
    {
        var failed = Exec(9, 950, "/usr/local/bin/curl", ["curl", Creds]).Replace("success=yes exit=0", "success=no exit=-2", StringComparison.Ordinal);
        var a = Assert.Single(AlertsOf(failed + Exec(10, 950, "/usr/bin/curl", ["curl", Creds])));
        Assert.Single(a.Evidence);
        Assert.Equal("/usr/bin/curl", a.Process.Executable);
    }

    [Fact]
    public void Agent_at_its_package_path_is_silent_and_counted()
    {
        var result = Scan(Exec(10, 300, "/usr/bin/amazon-ssm-agent", ["/usr/bin/amazon-ssm-agent"], tty: "(none)") + Connect(11, 300, "/usr/bin/amazon-ssm-agent", "169.254.169.254"));
        Assert.Empty(result.Alerts);
        Assert.Equal(1, result.Detection.AllowedByAgent["amazon-ssm-agent"]);
    }

    [Fact]
    public void Agent_path_owned_by_a_user_alerts_as_impersonation()
    {
        var a = Assert.Single(AlertsOf(Exec(10, 300, "/usr/bin/amazon-ssm-agent", ["/usr/bin/amazon-ssm-agent"], ownerUid: 1000) + Connect(11, 300, "/usr/bin/amazon-ssm-agent", "169.254.169.254")));
        Assert.Contains("agent-impersonation", a.Tags);
    }

    [Fact]
    public void Command_that_only_mentions_the_address_is_counted_not_alerted()
    {
        var result = Scan(Exec(10, 400, "/usr/sbin/iptables", ["iptables", "-A", "OUTPUT", "-d", "169.254.169.254", "-j", "DROP"]));
        Assert.Empty(result.Alerts);
        Assert.Equal(1, result.Detection.Mentions);
    }

    [Fact]
    public void Severity_grows_with_what_was_reached_and_who_reached_it()
    {
        var sdk = Assert.Single(AlertsOf(Connect(11, 1, "/usr/local/bin/app", "169.254.169.254")));
        var metadata = Assert.Single(AlertsOf(Exec(10, 2, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/instance-id"], tty: "(none)")));
        var creds = Assert.Single(AlertsOf(Exec(10, 3, "/usr/bin/curl", ["curl", Creds], tty: "(none)")));
        var evasive = Assert.Single(AlertsOf(Exec(10, 4, "/tmp/x/curl", ["curl", "http://0xA9FEA9FE/latest/meta-data/iam/security-credentials/"], tty: "pts1")));
        var ssrf = Assert.Single(AlertsOf(Connect(11, 5, "/usr/sbin/nginx", "169.254.169.254")));
        Assert.True(sdk.RiskScore < metadata.RiskScore && metadata.RiskScore < creds.RiskScore && creds.RiskScore < evasive.RiskScore);
        Assert.Equal(Severity.Low, sdk.Severity);
        Assert.Equal(Severity.Critical, evasive.Severity);
        Assert.Contains("ssrf", ssrf.Tags);
        Assert.True(ssrf.RiskScore > sdk.RiskScore);
        Assert.All(new[] { sdk, metadata, creds, evasive, ssrf }, a => Assert.NotEmpty(a.RiskReasons));
    }

    [Fact]
    public void Alert_ids_are_stable_across_rescans()
    {
        var text = Exec(10, 500, "/usr/bin/curl", ["curl", Creds]) + Connect(11, 500, "/usr/bin/curl", "169.254.169.254");
        Assert.Equal(AlertsOf(text)[0].Id, AlertsOf(text)[0].Id);
    }

    [Fact]
    public void Enriched_user_names_are_carried_to_the_alert()
    {
        var enriched = Exec(10, 500, "/usr/bin/curl", ["curl", Creds], uid: 1001)
            .Replace("key=\"imds\"\n", "key=\"imds\"\u001dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"deploy\" EUID=\"deploy\"\n", StringComparison.Ordinal);
        var a = Assert.Single(AlertsOf(enriched));
        Assert.Equal("deploy", a.Process.User.Name);
        Assert.Equal("alice", a.Process.User.AuditName);
    }
}
