using ImdsWatch.Detection;
using ImdsWatch.Indicators;

namespace ImdsWatch.Tests.Detection;

public sealed class CommandLineAnalyzerTests
{
    private static CommandAnalysis Analyze(params string[] argv) => DetectionRules.Default.Analyzer.Analyze(argv);

    [Theory]
    [InlineData("curl", "-s", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")]
    [InlineData("wget", "-qO-", "http://169.254.169.254/latest/user-data")]
    [InlineData("nc", "169.254.169.254", "80")]
    [InlineData("socat", "-", "TCP:169.254.169.254:80")]
    [InlineData("/opt/app/bin/fetcher", "--url", "http://169.254.169.254/latest/meta-data/")]
    public void Fetching_an_endpoint_is_an_access(params string[] argv) => Assert.True(Analyze(argv).IsAccess);

    [Theory]
    [InlineData("iptables", "-A", "OUTPUT", "-d", "169.254.169.254", "-j", "DROP")]
    [InlineData("ip", "route", "add", "169.254.169.254/32", "dev", "eth0")]
    [InlineData("nft", "add", "rule", "inet", "filter", "output", "ip", "daddr", "169.254.169.254", "drop")]
    [InlineData("grep", "169.254.169.254", "/etc/hosts")]
    [InlineData("echo", "http://169.254.169.254/latest/meta-data/")]
    [InlineData("dig", "metadata.google.internal")]
    [InlineData("python3", "-c", "import ipaddress; print(ipaddress.ip_address('169.254.169.254').is_link_local)")]
    [InlineData("bash", "-c", "echo 169.254.169.254 >> /tmp/x; grep -q 169.254.169.254 /etc/hosts")]
    public void Only_mentioning_an_endpoint_is_not_an_access(params string[] argv)
    {
        var a = Analyze(argv);
        Assert.NotEmpty(a.References);
        Assert.False(a.IsAccess);
    }

    [Theory]
    [InlineData("python3", "-m", "http.server", "80", "--bind", "169.254.169.254")]
    [InlineData("curl", "--noproxy", "169.254.169.254", "https://example.com/")]
    [InlineData("socat", "--bind=169.254.169.254", "-", "TCP:example.com:80")]
    public void Addresses_a_program_listens_on_or_excludes_are_not_accesses(params string[] argv) => Assert.False(Analyze(argv).IsAccess);

    [Theory]
    [InlineData("curl", "sudo", "-u", "deploy", "curl", "http://169.254.169.254/latest/meta-data/")]
    [InlineData("curl", "env", "A=1", "curl", "http://169.254.169.254/latest/meta-data/")]
    [InlineData("curl", "timeout", "-s", "KILL", "5", "curl", "http://169.254.169.254/latest/meta-data/")]
    [InlineData("curl", "ip", "netns", "exec", "ns1", "curl", "http://169.254.169.254/latest/meta-data/")]
    [InlineData("curl", "nohup", "nice", "-n", "10", "curl", "http://169.254.169.254/latest/meta-data/")]
    [InlineData("curl", "busybox", "curl", "http://169.254.169.254/latest/meta-data/")]
    public void Wrappers_are_stripped_to_the_program_that_acts(string program, params string[] argv)
    {
        var a = Analyze(argv);
        Assert.True(a.IsAccess);
        Assert.Equal(program, a.Program);
    }

    [Fact]
    public void Wrapper_running_a_mention_only_command_is_still_a_mention()
    {
        Assert.False(Analyze("sudo", "iptables", "-A", "OUTPUT", "-d", "169.254.169.254", "-j", "DROP").IsAccess);
    }

    [Fact]
    public void Shell_one_liner_is_analyzed_command_by_command()
    {
        var a = Analyze("bash", "-c", "TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600'); echo done");
        Assert.True(a.IsAccess);
        Assert.Equal(ProgramRole.ShellOneLiner, a.Role);
        Assert.Equal(AccessClass.Token, a.References.Max(r => r.Class));
    }

    [Fact]
    public void Shell_dev_tcp_redirection_is_an_access_even_behind_cat()
    {
        Assert.True(Analyze("sh", "-c", "cat < /dev/tcp/169.254.169.254/80").IsAccess);
        Assert.True(Analyze("bash", "-lc", "exec 3<>/dev/tcp/169.254.169.254/80").IsAccess);
    }

    [Theory]
    [InlineData("python3", "-c", "import urllib.request as u; u.urlopen('http://169.254.169.254/latest/meta-data/')")]
    [InlineData("python3", "-c", "import socket; socket.create_connection(('169.254.169.254', 80))")]
    [InlineData("perl", "-MIO::Socket::INET", "-e", "IO::Socket::INET->new(PeerAddr=>'169.254.169.254:80')")]
    [InlineData("ruby", "-e", "require 'net/http'; Net::HTTP.get(URI('http://169.254.169.254/latest/meta-data/'))")]
    [InlineData("node", "-e", "require('http').get('http://169.254.169.254/latest/meta-data/')")]
    [InlineData("php", "-r", "echo file_get_contents('http://169.254.169.254/latest/meta-data/');")]
    public void Interpreter_one_liners_that_use_the_network_are_accesses(params string[] argv)
    {
        var a = Analyze(argv);
        Assert.True(a.IsAccess);
        Assert.Equal(ProgramRole.InterpreterOneLiner, a.Role);
    }

    [Fact]
    public void Headers_name_the_provider_and_token_requests()
    {
        var a = Analyze("curl", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://169.254.169.254/latest/api/token");
        Assert.Contains(a.Headers, h => h.Class == AccessClass.Token);
        Assert.Contains(Analyze("curl", "-H", "Metadata-Flavor: Google", "http://metadata/computeMetadata/v1/").Headers, h => h.Provider == "gcp");
    }
}
