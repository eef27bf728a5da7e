using System.IO.Compression;
using ImdsWatch.Config;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Trail;

namespace ImdsWatch.Tests.Detection.Cloud;

public sealed class CloudTrailTests
{
    private static ScanResult ScanFile(string path, CloudTrailOptions? options = null) =>
        new DetectionPipeline(DetectionRules.Default) { Cloud = options ?? new CloudTrailOptions() }.Scan([new InputSource(path, path)]);

    [CorpusFact]
    public void The_otrf_ssrf_capture_alerts_on_the_stolen_roles_calls_only()
    {
        var path = Path.Combine(Repo.Corpora, "cloudtrail", "otrf-ec2_proxy_s3_exfiltration.ndjson");
        var result = ScanFile(path);
        Assert.Equal(103, result.ApiCalls);
        var exfil = Assert.Single(result.Alerts, a => a.AlertType == CloudTrailRules.Exfiltration);
        Assert.Equal("i-0317f6c6b66ae9c40", exfil.Cloud!.InstanceId);
        Assert.Equal(11, exfil.Cloud.EventIds.Count);
        Assert.All(exfil.Evidence, e => Assert.StartsWith("cloudtrail:", e.RecordId, StringComparison.Ordinal));
        Assert.Contains("IAMUser pedro", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("Darwin", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains(exfil.RiskReasons, r => r.Contains("ListBuckets", StringComparison.Ordinal));
        var v1 = Assert.Single(result.Alerts, a => a.AlertType == CloudTrailRules.ImdsV1Delivery);
        Assert.Equal(11, v1.Cloud!.EventIds.Count);
        Assert.Equal(2, result.Alerts.Count);
    }

    [Fact]
    public void Instance_session_used_from_another_address_than_its_agents_is_exfiltration_inside_aws()
    {
        var path = Audit.WriteTemp(Records(
            Call("UpdateInstanceInformation", "54.10.20.30", "2026-11-24T10:00:00Z", userAgent: "aws-sdk-go/1.44 (go1.20; linux; amd64) amazon-ssm-agent/3.2", eventSource: "ssm.amazonaws.com"),
            Call("ListBuckets", "54.10.20.30", "2026-11-24T10:05:00Z"),
            Call("GetCallerIdentity", "3.80.1.2", "2026-11-24T11:00:00Z", eventSource: "sts.amazonaws.com"),
            Call("ListBuckets", "3.80.1.2", "2026-11-24T11:00:05Z")), "trail.json");
        var ranges = Audit.WriteTemp("{\"prefixes\":[{\"ip_prefix\":\"54.0.0.0/8\"},{\"ip_prefix\":\"3.0.0.0/8\"}]}", "ip-ranges.json");
        var alert = Assert.Single(ScanFile(path, new CloudTrailOptions { AwsRanges = AwsIpRanges.Load(ranges) }).Alerts);
        Assert.Equal(CloudTrailRules.Exfiltration, alert.AlertType);
        Assert.Equal("3.80.1.2", alert.Cloud!.SourceIp);
        Assert.Contains("i-0abc1234567890def itself calls from 54.10.20.30", alert.Explanation, StringComparison.Ordinal);
        Assert.Contains("InsideAWS", alert.Tags[0], StringComparison.Ordinal);
        Assert.Contains(alert.RiskReasons, r => r.Contains("GetCallerIdentity", StringComparison.Ordinal));
    }

    [Fact]
    public void With_aws_ranges_an_outside_address_is_exfiltration_outside_aws()
    {
        var path = Audit.WriteTemp(Call("ListBuckets", "198.51.100.7", "2026-11-24T11:00:05Z") + "\n", "trail.ndjson");
        var ranges = Audit.WriteTemp("{\"prefixes\":[{\"ip_prefix\":\"3.0.0.0/8\"}],\"ipv6_prefixes\":[{\"ipv6_prefix\":\"2600:1f00::/24\"}]}", "ip-ranges.json");
        var alert = Assert.Single(ScanFile(path, new CloudTrailOptions { AwsRanges = AwsIpRanges.Load(ranges) }).Alerts);
        Assert.Contains("OutsideAWS", alert.Tags[0], StringComparison.Ordinal);
        Assert.Contains("relied on AWS ip-ranges.json", alert.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_any_basis_nothing_is_claimed()
    {
        var path = Audit.WriteTemp(Records(Call("ListBuckets", "198.51.100.7", "2026-11-24T11:00:05Z")), "trail.json");
        Assert.Empty(ScanFile(path).Alerts);
    }

    [Fact]
    public void Private_vpc_endpoint_and_trusted_addresses_are_never_off_instance()
    {
        var path = Audit.WriteTemp(Records(
            Call("ListBuckets", "10.0.1.5", "2026-11-24T11:00:06Z"),
            Call("ListBuckets", "198.51.100.7", "2026-11-24T11:00:07Z", vpcEndpoint: "vpce-123"),
            Call("ListBuckets", "192.0.2.10", "2026-11-24T11:00:08Z")), "trail.json");
        var options = new CloudTrailOptions
        {
            TrustedNetworks = [System.Net.IPNetwork.Parse("192.0.2.0/24")],
            AwsRanges = new AwsIpRanges([System.Net.IPNetwork.Parse("3.0.0.0/8")]),
        };
        Assert.Empty(ScanFile(path, options).Alerts);
    }

    [Fact]
    public void Imdsv1_delivery_is_a_low_hardening_finding_per_instance_role()
    {
        var path = Audit.WriteTemp(Records(Call("ListBuckets", "10.0.0.1", "2026-11-24T11:00:00Z", delivery: "1.0"), Call("GetObject", "10.0.0.1", "2026-11-24T11:00:01Z", delivery: "1.0")), "t.json");
        var alert = Assert.Single(ScanFile(path).Alerts);
        Assert.Equal(CloudTrailRules.ImdsV1Delivery, alert.AlertType);
        Assert.Equal(ImdsWatch.Alerts.Severity.Low, alert.Severity);
        Assert.Equal(2, alert.Cloud!.EventIds.Count);
    }

    [Fact]
    public void The_seed_condition_is_implemented_as_written()
    {
        var record = """
            {"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"eventTime":"2026-11-24T11:00:00Z","eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","sourceIPAddress":"169.254.169.254","requestParameters":{"roleArn":"arn:aws:iam::1:role/r"},"eventID":"seed-1"}
            """;
        var alert = Assert.Single(ScanFile(Audit.WriteTemp(record, "one.json")).Alerts);
        Assert.Equal(CloudTrailRules.MetadataCredentialsUsed, alert.AlertType);
    }

    [Fact]
    public void Gzip_records_single_events_and_bad_lines_are_all_handled()
    {
        var gz = Path.Combine(Directory.CreateTempSubdirectory("ct-").FullName, "111122223333_CloudTrail_us-east-1_20261124T1100Z_abc.json.gz");
        using (var z = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
            z.Write(System.Text.Encoding.UTF8.GetBytes(Records(Call("ListBuckets", "10.0.0.1", "2026-11-24T11:00:00Z"))));
        Assert.Equal(1, ScanFile(gz).ApiCalls);

        var ndjson = Audit.WriteTemp(Call("ListBuckets", "10.0.0.1", "2026-11-24T11:00:00Z") + "\n{broken\n" + Call("GetObject", "10.0.0.1", "2026-11-24T11:00:01Z") + "\n", "t.ndjson");
        var result = ScanFile(ndjson);
        Assert.Equal(2, result.ApiCalls);
        Assert.Equal(2, Assert.Single(result.Issues).Line);
    }
}
