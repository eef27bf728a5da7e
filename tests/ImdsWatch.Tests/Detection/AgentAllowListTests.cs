using ImdsWatch.Detection;
using ImdsWatch.Events;

namespace ImdsWatch.Tests.Detection;

public sealed class AgentAllowListTests
{
    private static readonly AgentAllowList Agents = AgentAllowList.Default;

    private static ProcessSnapshot P(string exe, long? owner = 0, params string[] args) => new()
    {
        Pid = 10,
        Executable = exe,
        Args = args.Length > 0 ? args : [exe],
        Files = [new FileRef(exe, owner, "NORMAL")],
        WorkingDirectory = "/",
    };

    [Theory]
    [InlineData("/usr/bin/amazon-ssm-agent", "amazon-ssm-agent")]
    [InlineData("/snap/amazon-ssm-agent/7628/ssm-agent-worker", "amazon-ssm-agent")]
    [InlineData("/usr/bin/google_guest_agent", "google-guest-agent")]
    [InlineData("/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent", "amazon-cloudwatch-agent")]
    [InlineData("/opt/Elastic/Agent/data/elastic-agent-8.15.0/components/metricbeat", "elastic-agent")]
    [InlineData("/usr/bin/oracle-cloud-agent", "oracle-cloud-agent")]
    public void Agents_at_their_package_paths_are_allowed(string exe, string agent) =>
        Assert.Equal(agent, Agents.Evaluate(P(exe), null, []).Agent);

    [Fact]
    public void Interpreted_agent_is_allowed_by_its_script()
    {
        var p = P("/usr/bin/python3.11", 0, "/usr/bin/python3", "/usr/sbin/waagent", "-run-exthandlers");
        Assert.Equal("waagent", Agents.Evaluate(p, AgentAllowList.ScriptOf(p, "/usr/sbin/waagent"), []).Agent);
    }

    [Fact]
    public void Relative_script_is_resolved_from_the_working_directory()
    {
        var p = P("/usr/bin/python3", 0, "python3", "-u", "bin/WALinuxAgent-2.9.1.1-py3.8.egg", "-run-exthandlers") with { WorkingDirectory = "/var/lib/waagent/WALinuxAgent-2.9.1.1" };
        var script = AgentAllowList.ScriptOf(p, "bin/WALinuxAgent-2.9.1.1-py3.8.egg");
        Assert.Equal("/var/lib/waagent/WALinuxAgent-2.9.1.1/bin/WALinuxAgent-2.9.1.1-py3.8.egg", script);
        Assert.Equal("waagent", Agents.Evaluate(p, script, []).Agent);
    }

    [Fact]
    public void Agent_name_on_the_command_line_of_another_program_is_not_an_agent()
    {
        var p = P("/usr/bin/curl", 0, "curl", "-A", "amazon-ssm-agent", "http://169.254.169.254/");
        Assert.Null(Agents.Evaluate(p, null, []).Agent);
        var shell = P("/usr/bin/bash", 0, "bash", "-c", "curl http://169.254.169.254/ # google_guest_agent waagent cloud-init");
        Assert.Null(Agents.Evaluate(shell, null, []).Agent);
    }

    [Fact]
    public void Copy_of_an_agent_in_a_writable_directory_is_not_an_agent()
    {
        Assert.Null(Agents.Evaluate(P("/tmp/amazon-ssm-agent"), null, []).Agent);
        Assert.Null(Agents.Evaluate(P("/home/bob/google_guest_agent"), null, []).Agent);
    }

    [Fact]
    public void Agent_path_owned_by_a_user_is_refused_with_the_reason()
    {
        var v = Agents.Evaluate(P("/usr/bin/amazon-ssm-agent", owner: 1000), null, []);
        Assert.Null(v.Agent);
        Assert.Contains("owned by uid 1000", v.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Deleted_agent_binary_is_refused()
    {
        var v = Agents.Evaluate(P("/usr/bin/amazon-ssm-agent (deleted)"), null, []);
        Assert.Null(v.Agent);
    }

    [Fact]
    public void Helpers_of_an_agent_that_runs_them_are_allowed_through_its_ancestry()
    {
        var parent = P("/bin/bash", 0, "/bin/bash", "/usr/share/ec2-instance-connect/eic_run_authorized_keys");
        var curl = P("/usr/bin/curl", 0, "curl", "http://169.254.169.254/latest/meta-data/instance-id");
        var v = Agents.Evaluate(curl, null, [parent with { Files = [new FileRef("/usr/share/ec2-instance-connect/eic_run_authorized_keys", 0, "NORMAL"), new FileRef("/bin/bash", 0, "NORMAL")] }]);
        Assert.Equal("ec2-instance-connect", v.Agent);
    }

    [Fact]
    public void Children_of_an_agent_without_descendant_trust_are_not_allowed()
    {
        var ssm = P("/usr/bin/ssm-session-worker");
        Assert.Null(Agents.Evaluate(P("/usr/bin/curl", 0, "curl", "http://169.254.169.254/"), null, [ssm]).Agent);
    }
}
