using System.IO.Compression;
using System.Text;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Input;
using static ImdsWatch.Tests.Support.Trail;

namespace ImdsWatch.Tests.Detection.Cloud;

/// <summary>Bad CloudTrail is reported where it is (file, line, record) and never ends the scan.</summary>
public sealed class CloudTrailRobustnessTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("imdswatch-ctbad-");

    public void Dispose() => _dir.Delete(recursive: true);

    private ScanResult ScanText(string text, string name = "trail.json", bool gzip = false)
    {
        var path = Path.Combine(_dir.FullName, name);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (gzip)
        {
            using var z = new GZipStream(File.Create(path), CompressionLevel.Fastest);
            z.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]);
    }

    private static string Good(int n) => Call("ListBuckets", "10.0.0.1", $"2026-11-24T11:00:{n:00}Z", id: $"good-{n}");

    [Fact]
    public void A_lone_surrogate_escape_is_an_issue_at_its_record_and_the_rest_is_read()
    {
        var bad = Good(2).Replace("\"ListBuckets\"", "\"List\\ud800Buckets\"", StringComparison.Ordinal);
        var result = ScanText(Records(Good(1), bad, Good(3)));
        var issue = Assert.Single(result.Issues);
        Assert.Contains("record 2", issue.Reason, StringComparison.Ordinal);
        Assert.EndsWith("trail.json", issue.File, StringComparison.Ordinal);
        Assert.Equal(1, issue.Line);
        Assert.Equal(3, result.Records);
    }

    [Fact]
    public void A_lone_surrogate_in_a_record_that_could_not_matter_is_reported_too()
    {
        var quiet = """{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"s3.amazonaws.com"},"eventTime":"2026-11-24T11:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","userAgent":"\udfff"}""";
        var result = ScanText(quiet + "\n" + Good(1) + "\n", "t.ndjson");
        var issue = Assert.Single(result.Issues);
        Assert.Equal(1, issue.Line);
        Assert.Equal(2, result.Records);
    }

    [Fact]
    public void A_broken_record_inside_a_records_list_costs_that_record_only()
    {
        var broken = Good(2)[..40] + "\"oops\": }";
        var result = ScanText(Records(Good(1), broken, Good(3), Good(4)));
        var issue = Assert.Single(result.Issues);
        Assert.Contains("record 2", issue.Reason, StringComparison.Ordinal);
        Assert.Equal(4, result.Records); // the broken one counts, unread
    }

    [Fact]
    public void A_broken_record_in_a_pretty_printed_array_is_reported_at_its_line_and_reading_resumes()
    {
        var records = new[] { Good(1), Good(2), Good(3) }.Select(r => System.Text.Json.Nodes.JsonNode.Parse(r)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        var text = "[\n" + string.Join(",\n", records) + "\n]\n";
        var second = text.IndexOf("good-2", StringComparison.Ordinal);
        text = text[..second] + "good-2\" \"x\": 1,\n" + text[(text.IndexOf('\n', second) + 1)..];
        var result = ScanText(text);
        var issue = Assert.Single(result.Issues);
        var lineOfSecond = text.Split('\n').Select((line, i) => (line, i)).Where(x => x.line == "{").Skip(1).First().i + 1;
        Assert.Equal(lineOfSecond, issue.Line);
        Assert.Contains("record 2", issue.Reason, StringComparison.Ordinal);
        Assert.Equal(3, result.Records);
    }

    [Fact]
    public void A_truncated_gzip_is_an_issue_and_the_records_before_it_count()
    {
        var path = Path.Combine(_dir.FullName, "cut.json.gz");
        using (var z = new GZipStream(File.Create(path), CompressionLevel.Optimal))
            z.Write(Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 2000).Select(Good))));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        var result = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]);
        Assert.NotEmpty(result.Issues);
        Assert.InRange(result.Records, 100, 1999);
    }

    [Fact]
    public void A_truncated_records_file_is_one_issue()
    {
        var text = Records(Good(1), Good(2), Good(3));
        var result = ScanText(text[..(text.Length - 30)]);
        Assert.Equal(3, result.Records);
        Assert.Contains(result.Issues, i => i.Reason.Contains("truncated", StringComparison.Ordinal));
    }

    [Fact]
    public void Garbage_lines_in_ndjson_are_issues_at_their_lines()
    {
        var text = Good(1) + "\nnot json at all\n" + Good(2) + "\n{\"half\": \n" + Good(3) + "\n";
        var result = ScanText(text, "t.ndjson");
        Assert.Equal(5, result.Records);
        Assert.Equal([2L, 4L], result.Issues.Select(i => i.Line));
    }

    [Fact]
    public void Records_that_are_not_cloudtrail_events_are_issues()
    {
        var result = ScanText("""{"Records":[{"hello":"world"}, 42, "text"]}""");
        Assert.Equal(3, result.Issues.Count);
        Assert.Contains("record 1", result.Issues[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bom_and_blank_lines_are_fine()
    {
        var result = ScanText("\uFEFF\n\n" + Records(Good(1)) + "\n\n");
        Assert.Equal(1, result.Records);
        Assert.Empty(result.Issues);
    }

    [Fact]
    public void Records_split_across_reads_are_whole()
    {
        // larger than the reader's first buffer, so that records straddle refills
        var text = Records([.. Enumerable.Range(0, 6000).Select(i => Good(i % 60))]);
        Assert.True(text.Length > 1 << 20);
        var result = ScanText(text);
        Assert.Equal(6000, result.Records);
        Assert.Empty(result.Issues);
    }

    [Fact]
    public void The_structural_scan_finds_the_end_of_objects_with_tricky_strings()
    {
        var value = """{"a":"}]\"{","b":[{"c":"\\"}],"d":{}} trailing"""u8;
        Assert.Equal(JsonExtent.Result.Complete, JsonExtent.Find(value, false, out var length, out _));
        Assert.Equal(value.IndexOf(" trailing"u8), length);
        Assert.Equal(JsonExtent.Result.Incomplete, JsonExtent.Find("""{"a":"b"""u8, false, out _, out _));
        Assert.Equal(JsonExtent.Result.Invalid, JsonExtent.Find("""{"a":[}"""u8, false, out _, out _));
        Assert.Equal(JsonExtent.Result.Invalid, JsonExtent.Find("{\"a\":\n{\"b\":1}"u8, true, out _, out _));
    }

    [Fact]
    public void Cloudtrail_is_sniffed_from_content_and_digests_and_other_json_are_not()
    {
        Assert.True(CloudTrailSniffer.LooksLikeCloudTrail("\n  {\n  \"Records\" : [ "u8));
        Assert.True(CloudTrailSniffer.LooksLikeCloudTrail(Encoding.UTF8.GetBytes("[\n " + Good(1))));
        Assert.True(CloudTrailSniffer.LooksLikeCloudTrail(Encoding.UTF8.GetBytes(Good(1).ToLowerInvariant())));
        Assert.False(CloudTrailSniffer.LooksLikeCloudTrail("""{"awsAccountId":"1","digestStartTime":"x","logFiles":[]}"""u8));
        Assert.False(CloudTrailSniffer.LooksLikeCloudTrail("""{"@timestamp":"2026-11-24T11:00:00Z","event":{"action":"connect"},"process":{"pid":1}}"""u8));
        Assert.False(CloudTrailSniffer.LooksLikeCloudTrail("type=SYSCALL msg=audit(1.0:1): eventName"u8));
    }
}
