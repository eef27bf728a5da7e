using System.Text.Json;
using ImdsWatch.Alerts;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Events;
using ImdsWatch.Sources.CloudTrail;
using static ImdsWatch.Tests.Support.Trail;

namespace ImdsWatch.Tests.Detection.Cloud;

/// <summary>
/// Evidence for instance sessions used from private addresses and from inside AWS: weighed like any other, named
/// in the alert, and never "private" or "inside AWS" alone. The IMDSv1 wording. The bounds on the rules' state.
/// </summary>
public sealed class CloudTrailEvidenceTests
{
    private const string Agent = "aws-sdk-go/1.44 (go1.20; linux; amd64) amazon-ssm-agent/3.2";
    private const string Instance = "i-0abc1234567890def";

    private static ApiCall Parsed(string json, int n = 1)
    {
        ApiCall? call = null;
        var strings = new StringPool();
        new CloudTrailRecordParser("trail.json", strings).Parse(System.Text.Encoding.UTF8.GetBytes(json), n, c => call = c, (_, reason) => Assert.Fail(reason));
        return call!;
    }

    private static List<Alert> Judge(CloudTrailOptions? options, params string[] records) =>
        new CloudTrailRules(options ?? new CloudTrailOptions()).Evaluate(records.Select((r, i) => Parsed(r, i + 1)));

    private static string Own(string time, string ip = "10.0.1.5", string delivery = "2.0", string? vpce = null) =>
        Call("UpdateInstanceInformation", ip, time, userAgent: Agent, eventSource: "ssm.amazonaws.com", delivery: delivery, vpcEndpoint: vpce);

    [Fact]
    public void A_private_address_the_instance_never_uses_with_another_delivery_version_is_exfiltration()
    {
        var alerts = Judge(null,
            Own("2026-11-24T10:00:00Z"),
            Call("ListBuckets", "10.9.9.9", "2026-11-24T10:05:00Z", delivery: "1.0"));
        var exfil = Assert.Single(alerts, a => a.AlertType == CloudTrailRules.Exfiltration);
        Assert.Equal("10.9.9.9", exfil.Cloud!.SourceIp);
        Assert.Contains($"{Instance} itself calls from 10.0.1.5", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("delivered through IMDSv1, the instance's own sessions' through IMDSv2", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("the address is private, which alone proves nothing", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("InsideAWS-or-unknown", exfil.Tags[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_private_address_shared_with_an_iam_user_who_sent_commands_to_the_instance_is_exfiltration()
    {
        var command = Call("SendCommand", "172.16.4.4", "2026-11-24T10:00:00Z", type: "IAMUser", eventSource: "ssm.amazonaws.com");
        command = command[..^1] + $",\"requestParameters\":{{\"instanceIds\":[\"{Instance}\"]}}}}";
        var exfil = Assert.Single(Judge(null, command, Call("GetCallerIdentity", "172.16.4.4", "2026-11-24T10:01:00Z", eventSource: "sts.amazonaws.com")));
        Assert.Contains("172.16.4.4 is where IAMUser alice calls from, not an instance, who sent commands to " + Instance, exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("relied on whose address it is; the address is private", exfil.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vpc_endpoint_the_instance_does_not_use_is_evidence()
    {
        var exfil = Assert.Single(Judge(null,
            Own("2026-11-24T10:00:00Z", vpce: "vpce-own"),
            Call("ListBuckets", "10.20.0.7", "2026-11-24T10:05:00Z", vpcEndpoint: "vpce-other")));
        Assert.Contains($"{Instance}'s own sessions come through vpce-own; these through vpce-other", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("the VPC endpoints the instance uses", exfil.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Private_alone_and_inside_aws_alone_claim_nothing()
    {
        var ranges = new CloudTrailOptions { AwsRanges = new AwsIpRanges([System.Net.IPNetwork.Parse("3.0.0.0/8")]) };
        Assert.Empty(Judge(ranges,
            Call("ListBuckets", "10.9.9.9", "2026-11-24T10:05:00Z"),
            Call("ListBuckets", "3.4.5.6", "2026-11-24T10:06:00Z"),
            Call("ListBuckets", "198.51.100.1", "2026-11-24T10:07:00Z", vpcEndpoint: "vpce-1")));
    }

    [Fact]
    public void Inside_aws_with_evidence_says_inside_aws_proves_nothing_by_itself()
    {
        var ranges = new CloudTrailOptions { AwsRanges = new AwsIpRanges([System.Net.IPNetwork.Parse("3.0.0.0/8")]) };
        var exfil = Assert.Single(Judge(ranges, Own("2026-11-24T10:00:00Z", ip: "3.1.1.1"), Call("ListBuckets", "3.4.5.6", "2026-11-24T10:06:00Z")));
        Assert.Contains("the address is inside AWS, which alone proves nothing", exfil.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void The_instances_own_address_is_learned_even_after_the_calls_from_it()
    {
        Assert.Empty(Judge(null,
            Call("ListBuckets", "10.0.1.5", "2026-11-24T09:00:00Z", delivery: "2.0"),
            Own("2026-11-24T10:00:00Z")));
    }

    [Fact]
    public void The_imdsv1_alert_names_the_key_and_says_the_instances_own_sessions_use_v2()
    {
        var alerts = Judge(null, Own("2026-11-24T10:00:00Z"), Call("GetObject", "10.9.9.9", "2026-11-24T10:05:00Z", delivery: "1.0"));
        var v1 = Assert.Single(alerts, a => a.AlertType == CloudTrailRules.ImdsV1Delivery);
        Assert.Contains("1 call(s) with credentials of " + Instance + " (role app-role) delivered through IMDSv1 (access key ASIAEXAMPLE) from 10.9.9.9", v1.Summary, StringComparison.Ordinal);
        Assert.Contains("the instance's own sessions get theirs through IMDSv2", v1.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("uses IMDSv1", v1.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void The_imdsv1_alert_says_when_the_instance_itself_uses_v1()
    {
        var v1 = Assert.Single(Judge(null, Own("2026-11-24T10:00:00Z", delivery: "1.0")), a => a.AlertType == CloudTrailRules.ImdsV1Delivery);
        Assert.Contains("the instance's own sessions use IMDSv1 too", v1.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Sessions_past_the_bound_are_judged_when_let_go_and_counted()
    {
        var rules = new CloudTrailRules(new CloudTrailOptions(), new CloudTrailLimits { Sessions = 2 });
        var alerts = new List<Alert>();
        alerts.AddRange(rules.Observe(Parsed(Call("DescribeInstances", "203.0.113.9", "2026-11-24T10:00:00Z", userAgent: "aws-cli/2 Darwin/23.1.0"))));
        for (var i = 0; i < 10; i++)
            alerts.AddRange(rules.Observe(Parsed(Call("GetObject", $"10.1.0.{i}", $"2026-11-24T10:0{i}:30Z"))));
        Assert.Equal(9, rules.Evicted["sessions"]);
        alerts.AddRange(rules.Complete());
        var exfil = Assert.Single(alerts);
        Assert.Equal("203.0.113.9", exfil.Cloud!.SourceIp);
    }

    [Fact]
    public void Evidence_kept_per_session_is_bounded_and_the_count_stays_exact()
    {
        var records = Enumerable.Range(0, 120).Select(i => Call("GetObject", "203.0.113.9", $"2026-11-24T10:{i / 60:00}:{i % 60:00}Z", userAgent: "aws-cli/2 Darwin/23.1.0")).ToArray();
        var exfil = Assert.Single(Judge(null, records));
        Assert.Equal(SessionUse.MaxKept, exfil.Evidence.Count);
        Assert.Contains("120 call(s) (the first 50 as evidence)", exfil.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Calls_merge_in_time_order_within_the_horizon_and_late_ones_are_counted()
    {
        var released = new List<ApiCall>();
        var merge = new TimeOrderedMerge(released.Add, TimeSpan.FromMinutes(10), 1000);
        foreach (var minute in new[] { 5, 1, 3, 30, 2, 31, 29 })
            merge.Add(Parsed(Call("GetObject", "10.0.0.1", $"2026-11-24T10:{minute:00}:00Z")));
        merge.Drain();
        Assert.Equal([1, 3, 5, 2, 29, 30, 31], released.Select(c => c.Timestamp.Minute));
        Assert.Equal(1, merge.OutOfOrder);
    }

    [Fact]
    public void Irrelevant_records_are_passed_over_without_parsing_and_relevant_ones_are_not()
    {
        var service = """{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"s3.amazonaws.com"},"eventTime":"2026-11-24T11:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject"}"""u8;
        Assert.False(CloudTrailRecordParser.MayMatter(service));
        Assert.True(CloudTrailRecordParser.MayMatter(System.Text.Encoding.UTF8.GetBytes(Call("GetObject", "1.2.3.4", "2026-11-24T11:00:00Z"))));
        Assert.True(CloudTrailRecordParser.MayMatter(System.Text.Encoding.UTF8.GetBytes(Call("GetObject", "1.2.3.4", "2026-11-24T11:00:00Z", type: "IAMUser"))));
        Assert.True(CloudTrailRecordParser.MayMatter("""{"hello":"world"}"""u8));
        var doc = JsonDocument.Parse(Call("GetObject", "1.2.3.4", "2026-11-24T11:00:00Z"));
        Assert.Equal(Instance, Parsed(doc.RootElement.GetRawText()).InstanceId);
    }
}
