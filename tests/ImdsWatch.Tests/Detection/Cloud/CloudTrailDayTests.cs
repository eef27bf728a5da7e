using System.IO.Compression;
using System.Text;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Input;
using static ImdsWatch.Tests.Support.Trail;

namespace ImdsWatch.Tests.Detection.Cloud;

/// <summary>A generated day in the S3 layout: many gzipped files, overlapping in time, read on several threads.</summary>
public sealed class CloudTrailDayTests : IDisposable
{
    private const string Instance = "i-0abc1234567890def";
    private static readonly string[] Regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("imdswatch-day-");

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>
    /// 36 files (3 regions, 12 deliveries of 5 minutes each), each a gzipped one-line Records file whose records
    /// are out of order within the file and overlap the next delivery; the instance's agent calls from its own
    /// address all day; at 00:31 its session is used from an IAM user's address.
    /// </summary>
    private void WriteDay()
    {
        var random = new Random(16);
        var start = new DateTime(2026, 11, 24, 0, 0, 0, DateTimeKind.Utc);
        for (var delivery = 0; delivery < 12; delivery++)
        {
            foreach (var region in Regions)
            {
                var calls = new List<string>();
                for (var n = 0; n < 40; n++)
                {
                    var t = start.AddMinutes(delivery * 5 + random.Next(0, 8)).AddSeconds(random.Next(60));
                    calls.Add(n % 4 == 0
                        ? Call("UpdateInstanceInformation", "54.10.20.30", Stamp(t), userAgent: "aws-sdk-go/1.44 (go1.20; linux; amd64) amazon-ssm-agent/3.2", eventSource: "ssm.amazonaws.com")
                        : Call("GetObject", "54.10.20.30", Stamp(t)));
                }
                if (delivery == 6 && region == "eu-west-1")
                {
                    calls.Add(SendCommand("203.0.113.9", Stamp(start.AddMinutes(30)), Instance));
                    calls.Add(Call("GetCallerIdentity", "203.0.113.9", Stamp(start.AddMinutes(31)), eventSource: "sts.amazonaws.com"));
                    calls.Add(Call("ListBuckets", "203.0.113.9", Stamp(start.AddMinutes(31).AddSeconds(5))));
                }
                var delivered = start.AddMinutes(delivery * 5 + 5);
                var folder = Path.Combine(_dir.FullName, "AWSLogs", "111122223333", "CloudTrail", region, "2026", "11", "24");
                Directory.CreateDirectory(folder);
                var name = $"111122223333_CloudTrail_{region}_{delivered:yyyyMMdd'T'HHmm'Z'}_{random.Next():x8}.json.gz";
                using var z = new GZipStream(File.Create(Path.Combine(folder, name)), CompressionLevel.Fastest);
                z.Write(Encoding.UTF8.GetBytes(Records([.. calls])));
            }
        }
        // the digest files AWS writes beside the logs are not CloudTrail records and are passed over
        var digests = Path.Combine(_dir.FullName, "AWSLogs", "111122223333", "CloudTrail-Digest", "us-east-1", "2026", "11", "24");
        Directory.CreateDirectory(digests);
        File.WriteAllText(Path.Combine(digests, "111122223333_CloudTrail-Digest_us-east-1_x_20261124T0100Z.json"),
            """{"awsAccountId":"111122223333","digestStartTime":"2026-11-24T00:00:00Z","digestEndTime":"2026-11-24T01:00:00Z","logFiles":[]}""");
    }

    /// <summary>An IAM user's SendCommand to an instance.</summary>
    internal static string SendCommand(string ip, string time, string instance)
    {
        var call = Call("SendCommand", ip, time, type: "IAMUser", eventSource: "ssm.amazonaws.com");
        return call[..^1] + $",\"requestParameters\":{{\"documentName\":\"AWS-RunShellScript\",\"instanceIds\":[\"{instance}\"]}}}}";
    }

    private static string Stamp(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_generated_s3_layout_day_is_read_whole_and_yields_the_one_incident()
    {
        WriteDay();
        var sources = InputResolver.Resolve([_dir.FullName], out var errors, out var skipped);
        Assert.Empty(errors);
        Assert.Single(skipped); // the digest
        var result = new DetectionPipeline(DetectionRules.Default) { Workers = 3 }.Scan(sources);
        Assert.Equal(36, result.Formats[LogFormat.CloudTrail]);
        Assert.Equal(36 * 40 + 3, result.Records);
        Assert.Equal(0, result.IssueCount);
        var exfil = Assert.Single(result.Alerts);
        Assert.Equal(CloudTrailRules.Exfiltration, exfil.AlertType);
        Assert.Equal("203.0.113.9", exfil.Cloud!.SourceIp);
        Assert.Contains("itself calls from 54.10.20.30", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("sent commands to " + Instance, exfil.Explanation, StringComparison.Ordinal);
        Assert.Equal(["GetCallerIdentity", "ListBuckets"], exfil.Cloud.EventNames);
        Assert.Equal(0, result.CloudTrail!.OutOfOrder);
    }

    [Fact]
    public void Calls_reach_the_rules_in_time_order_whatever_the_number_of_workers()
    {
        WriteDay();
        var files = InputResolver.Resolve([_dir.FullName], out _).Select((s, i) => (i, s)).ToList();
        List<ApiCall> Read(int workers)
        {
            var calls = new List<ApiCall>();
            new CloudTrailSource { Workers = workers }.Read(files, calls.Add, (_, _, reason) => Assert.Fail(reason));
            return calls;
        }
        var one = Read(1);
        Assert.Equal(36 * 40 + 3, one.Count);
        Assert.True(one.Zip(one.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp), "calls out of time order");
        Assert.Equal(one.Select(c => c.EventId), Read(4).Select(c => c.EventId));
    }

    [Fact]
    public void The_delivery_time_of_an_s3_object_name_orders_the_files()
    {
        Assert.Equal(new DateTime(2026, 11, 24, 11, 5, 0, DateTimeKind.Utc),
            CloudTrailSource.DeliveryTime("AWSLogs/1/CloudTrail/us-east-1/2026/11/24/111122223333_CloudTrail_us-east-1_20261124T1105Z_abc.json.gz"));
        Assert.Equal(DateTime.MinValue, CloudTrailSource.DeliveryTime("/logs/trail.json"));
        Assert.Equal(DateTime.MinValue, CloudTrailSource.DeliveryTime("1_CloudTrail_us-east-1_2026112.json"));
    }
}
