using ImdsWatch.Detection;
using ImdsWatch.Indicators;

namespace ImdsWatch.Tests.Indicators;

public sealed class EndpointReferenceFinderTests
{
    private static readonly EndpointReferenceFinder Finder = DetectionRules.Default.Finder;

    private static EndpointReference One(string text) => Assert.Single(Finder.Find(text));

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/iam/security-credentials/role", "imds-link-local", AccessClass.Credentials, "aws")]
    [InlineData("http://169.254.169.254/latest/api/token", "imds-link-local", AccessClass.Token, "aws")]
    [InlineData("http://169.254.169.254/latest/user-data", "imds-link-local", AccessClass.UserData, "aws")]
    [InlineData("http://169.254.169.254/latest/meta-data/instance-id", "imds-link-local", AccessClass.Metadata, "aws")]
    [InlineData("http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01", "imds-link-local", AccessClass.Credentials, "azure")]
    [InlineData("http://169.254.169.254/metadata/instance?api-version=2021-02-01", "imds-link-local", AccessClass.Metadata, "azure")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token", "gcp-metadata", AccessClass.Credentials, "gcp")]
    [InlineData("http://metadata/computeMetadata/v1/instance/service-accounts/x@y.iam.gserviceaccount.com/identity", "gcp-metadata-short", AccessClass.Credentials, "gcp")]
    [InlineData("http://169.254.170.2/v2/credentials/abc", "aws-ecs-credentials", AccessClass.Credentials, "aws")]
    [InlineData("http://169.254.170.23/v1/credentials", "aws-eks-pod-identity", AccessClass.Credentials, "aws")]
    [InlineData("http://[fd00:ec2::23]/v1/credentials", "aws-eks-pod-identity", AccessClass.Credentials, "aws")]
    [InlineData("http://100.100.100.200/latest/meta-data/ram/security-credentials/r", "alibaba-metadata", AccessClass.Credentials, "alibaba")]
    [InlineData("http://169.254.169.254/opc/v2/identity/cert.pem", "imds-link-local", AccessClass.Credentials, "oracle")]
    [InlineData("http://169.254.169.254/opc/v2/instance/", "imds-link-local", AccessClass.Metadata, "oracle")]
    [InlineData("http://169.254.169.254/metadata/v1/user-data", "imds-link-local", AccessClass.UserData, "digitalocean")]
    [InlineData("http://169.254.169.254/openstack/latest/user_data", "imds-link-local", AccessClass.UserData, "openstack")]
    [InlineData("http://169.254.169.254/hetzner/v1/userdata", "imds-link-local", AccessClass.UserData, "hetzner")]
    [InlineData("http://instance-data/latest/meta-data/iam/security-credentials/", "aws-instance-data", AccessClass.Credentials, "aws")]
    [InlineData("http://168.63.129.16/machine/?comp=goalstate", "azure-wireserver", AccessClass.Metadata, "azure")]
    public void Endpoints_and_paths_of_every_provider_are_classified(string text, string endpoint, AccessClass access, string provider)
    {
        var r = One(text);
        Assert.Equal(endpoint, r.Endpoint!.Id);
        Assert.Equal(access, r.Class);
        Assert.Equal(provider, r.Provider);
        Assert.True(r.IsUrl);
    }

    [Theory]
    [InlineData("http://2852039166/latest/meta-data/", ObfuscationKind.NumericSpelling)]
    [InlineData("http://0xA9FEA9FE/latest/meta-data/", ObfuscationKind.NumericSpelling)]
    [InlineData("http://0251.0376.0251.0376/latest/meta-data/", ObfuscationKind.NumericSpelling)]
    [InlineData("http://169.254.43518/latest/meta-data/", ObfuscationKind.NumericSpelling)]
    [InlineData("http://[::ffff:169.254.169.254]/latest/meta-data/", ObfuscationKind.IPv6Embedding)]
    [InlineData("http://[::ffff:a9fe:a9fe]:80/latest/meta-data/", ObfuscationKind.IPv6Embedding)]
    [InlineData("http://%31%36%39.254.169.254/latest/meta-data/", ObfuscationKind.Encoding)]
    [InlineData("http://169.254.169.254%2flatest%2fmeta-data/", ObfuscationKind.Encoding)]
    [InlineData("http://１６９.２５４.１６９.２５４/latest/meta-data/", ObfuscationKind.Encoding)]
    [InlineData("http://169.254.169.254.nip.io/latest/meta-data/", ObfuscationKind.DnsAlias)]
    [InlineData("http://169-254-169-254.sslip.io/latest/meta-data/", ObfuscationKind.DnsAlias)]
    [InlineData("http://a9fea9fe.nip.io/latest/meta-data/", ObfuscationKind.DnsAlias)]
    [InlineData("http://decoy.example.com@169.254.169.254/latest/meta-data/", ObfuscationKind.UserInfo)]
    public void Obfuscated_spellings_are_found_and_marked(string text, ObfuscationKind kind)
    {
        var r = One(text);
        Assert.NotNull(r.Endpoint);
        Assert.True(r.Obfuscation.HasFlag(kind), $"{r.Obfuscation} lacks {kind}");
        Assert.Equal(AccessClass.Metadata, r.Class);
    }

    [Theory]
    [InlineData("/dev/tcp/169.254.169.254/80", 80)]
    [InlineData("TCP:169.254.169.254:80", null)]
    [InlineData("169.254.169.254:8080", 8080)]
    [InlineData("[fd00:ec2::254]:80", 80)]
    public void Bare_hosts_and_sockets_are_connect_references(string text, int? port)
    {
        var r = One(text);
        Assert.Equal(AccessClass.Connect, r.Class);
        Assert.Equal(port, r.Port);
    }

    [Fact]
    public void Dot_segments_and_doubled_slashes_do_not_hide_a_credentials_path()
    {
        Assert.Equal(AccessClass.Credentials, One("http://169.254.169.254//latest/./meta-data/x/../iam/security-credentials/").Class);
    }

    [Fact]
    public void Host_header_names_the_endpoint()
    {
        Assert.Equal("gcp-metadata-short", One("Host: metadata").Endpoint!.Id);
    }

    [Theory]
    [InlineData("--metadata")]
    [InlineData("show metadata for the file")]
    [InlineData("http://example.com/metadata")]
    [InlineData("10.169.254.169")]
    [InlineData("1692541692540")]
    [InlineData("v169.254.169.254x")]
    public void Common_words_and_other_addresses_are_not_references(string text) => Assert.Empty(Finder.Find(text));

    [Fact]
    public void Strong_metadata_path_behind_an_unknown_host_is_a_path_only_reference()
    {
        var r = One("http://10.0.0.5/latest/meta-data/iam/security-credentials/role");
        Assert.Null(r.Endpoint);
        Assert.Equal(AccessClass.Credentials, r.Class);
    }
}
