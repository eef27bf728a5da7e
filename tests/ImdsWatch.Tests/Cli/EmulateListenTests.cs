using ImdsWatch.Cli.Commands;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Cli;

public sealed class EmulateListenTests
{
    [Theory]
    [InlineData("127.0.0.1:99999")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("not a url")]
    public void A_bad_listen_address_is_a_usage_error_naming_it(string listen)
    {
        var run = CliRun.Of("emulate", "--listen", listen);
        Assert.Equal(2, run.Exit);
        Assert.Contains($"--listen: '{listen}' is not a URL to listen on", run.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", run.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:18170", "http://127.0.0.1:18170")]
    [InlineData("http://*:80", "http://*:80")]
    [InlineData("http://[::1]:18169", "http://[::1]:18169")]
    public void Listen_urls_are_taken_as_kestrel_takes_them_and_a_bare_host_and_port_as_http(string given, string url) =>
        Assert.Equal(url, EmulateCommand.ListenUrl(given));
}
