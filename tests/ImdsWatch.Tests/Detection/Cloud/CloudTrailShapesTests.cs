using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Detection.Cloud;

/// <summary>CloudTrail as it arrives: the Stratus files as they are, every file shape, plain and gzipped, folders.</summary>
public sealed class CloudTrailShapesTests : IDisposable
{
    private const string StolenInstance = "i-786a3A8B5C0d92eF4";
    private const string AttackerAddress = "18.236.253.47";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("imdswatch-ct-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static string StratusFolder => Path.Combine(Repo.Corpora, "cloudtrail", "stratus-red-team");

    private static string StealFile => Path.Combine(StratusFolder, "aws.credential-access.ec2-steal-instance-credentials.json");

    private static ScanResult Scan(params string[] paths)
    {
        var sources = InputResolver.Resolve(paths, out var errors);
        Assert.Empty(errors);
        return new DetectionPipeline(DetectionRules.Default).Scan(sources);
    }

    private static void AssertTheStolenSession(ScanResult result)
    {
        var exfil = Assert.Single(result.Alerts, a => a.AlertType == CloudTrailRules.Exfiltration);
        Assert.Equal(StolenInstance, exfil.Cloud!.InstanceId);
        Assert.Equal(AttackerAddress, exfil.Cloud.SourceIp);
        Assert.Equal(["GetCallerIdentity", "DescribeInstances"], exfil.Cloud.EventNames);
        Assert.Contains("IAMUser christophe", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains($"sent commands to {StolenInstance}", exfil.Explanation, StringComparison.Ordinal);
        Assert.Contains("relied on whose address it is", exfil.Explanation, StringComparison.Ordinal);
    }

    private string Write(string name, string text, bool gzip = false)
    {
        var path = Path.Combine(_dir.FullName, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return path;
        }
        using var z = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        z.Write(bytes);
        return path;
    }

    private static JsonArray StealRecords() => JsonNode.Parse(File.ReadAllText(StealFile))!.AsArray();

    [CorpusFact]
    public void Stratus_folder_is_read_as_cloudtrail_and_yields_exactly_the_stolen_session()
    {
        var result = Scan(StratusFolder);
        Assert.Equal(35, result.Formats[LogFormat.CloudTrail]);
        Assert.Equal(310, result.Records);
        Assert.Equal(0, result.IssueCount);
        AssertTheStolenSession(result);
    }

    [CorpusFact]
    public void Stratus_array_file_is_read_as_cloudtrail_with_lines_and_ordinals()
    {
        var result = Scan(StealFile);
        Assert.Equal(45, result.Records);
        AssertTheStolenSession(result);
        var lines = File.ReadAllLines(StealFile);
        var exfil = result.Alerts.Single(a => a.AlertType == CloudTrailRules.Exfiltration);
        foreach (var e in exfil.Evidence)
        {
            Assert.Equal(StealFile, e.File);
            Assert.Equal("{", lines[e.Line - 1].Trim()); // the line the record starts on
            var ordinal = int.Parse(e.RecordId[(e.RecordId.LastIndexOf(' ') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
            var eventId = StealRecords()[ordinal - 1]!["eventID"]!.GetValue<string>();
            Assert.StartsWith($"cloudtrail:{eventId} (record {ordinal})", e.RecordId, StringComparison.Ordinal);
        }
    }

    /// <summary>The shapes CloudTrail arrives in, each built from the Stratus records.</summary>
    public static TheoryData<string, bool> Shapes() => new()
    {
        { "records-one-line", false }, { "records-one-line", true }, { "records-pretty", false }, { "records-pretty", true },
        { "array-pretty", true }, { "array-one-line", true }, { "ndjson", false }, { "ndjson", true }, { "ndjson-of-records-files", true },
        { "eventbridge-ndjson", true }, { "eventbridge-array", true }, { "lake-query-results", true }, { "athena-lowercase-ndjson", true },
    };

    [CorpusTheory]
    [MemberData(nameof(Shapes))]
    public void Every_shape_is_sniffed_and_read_plain_and_gzipped(string shape, bool gzip)
    {
        var records = StealRecords();
        var indented = new JsonSerializerOptions { WriteIndented = true };
        string OneLine(JsonNode n) => n.ToJsonString();
        var text = shape switch
        {
            "records-one-line" => OneLine(new JsonObject { ["Records"] = records.DeepClone() }),
            "records-pretty" => new JsonObject { ["Records"] = records.DeepClone() }.ToJsonString(indented),
            "array-pretty" => records.ToJsonString(indented),
            "array-one-line" => OneLine(records),
            "ndjson" => string.Join('\n', records.Select(r => OneLine(r!))) + "\n",
            "ndjson-of-records-files" => string.Join('\n', records.Chunk(10).Select(c => OneLine(new JsonObject { ["Records"] = new JsonArray([.. c.Select(r => r!.DeepClone())]) }))),
            "eventbridge-ndjson" => string.Join('\n', records.Select(r => OneLine(Envelope(r!)))),
            "eventbridge-array" => new JsonArray([.. records.Select(r => Envelope(r!))]).ToJsonString(indented),
            "lake-query-results" => OneLine(new JsonObject { ["QueryStatus"] = "FINISHED", ["QueryResultRows"] = new JsonArray([.. records.Select(r => LakeRow(r!))]) }),
            "athena-lowercase-ndjson" => string.Join('\n', records.Select(r => OneLine(Lowercase(r!)))),
            _ => throw new ArgumentOutOfRangeException(nameof(shape)),
        };
        var path = Write($"{shape}.data{(gzip ? ".gz" : "")}", text, gzip);
        Assert.Equal(LogFormat.CloudTrail, FormatDetector.Detect(new InputSource(path, path)));
        var result = Scan(_dir.FullName);
        Assert.Equal(45, result.Records);
        Assert.Equal(0, result.IssueCount);
        AssertTheStolenSession(result);
    }

    private static JsonNode Envelope(JsonNode record) => new JsonObject
    {
        ["version"] = "0",
        ["id"] = Guid.NewGuid().ToString(),
        ["detail-type"] = "AWS API Call via CloudTrail",
        ["source"] = "aws." + record["eventSource"]!.GetValue<string>().Split('.')[0],
        ["account"] = "017622104382",
        ["time"] = record["eventTime"]!.DeepClone(),
        ["region"] = "us-west-2",
        ["resources"] = new JsonArray(),
        ["detail"] = record.DeepClone(),
    };

    /// <summary>CloudTrail Lake's GetQueryResults: a row is a list of one-column objects; nested columns dotted.</summary>
    private static JsonNode LakeRow(JsonNode record)
    {
        var row = new JsonArray();
        void Add(string column, JsonNode? value)
        {
            if (value is JsonValue)
                row.Add(new JsonObject { [column] = value.DeepClone() });
        }
        foreach (var field in new[] { "eventID", "eventTime", "eventName", "eventSource", "sourceIPAddress", "userAgent", "awsRegion" })
            Add(field, record[field]);
        var identity = record["userIdentity"]!;
        foreach (var field in new[] { "type", "principalId", "arn", "accountId", "accessKeyId" })
            Add("userIdentity." + field, identity[field]);
        Add("userIdentity.sessionContext.ec2RoleDelivery", identity["sessionContext"]?["ec2RoleDelivery"]);
        Add("userIdentity.sessionContext.sessionIssuer.userName", identity["sessionContext"]?["sessionIssuer"]?["userName"]);
        if (record["requestParameters"]?["instanceIds"] is JsonArray ids)
            row.Add(new JsonObject { ["requestParameters.instanceIds"] = ids.DeepClone() });
        return row;
    }

    /// <summary>Athena's CloudTrail table: lower-case columns, requestParameters kept as JSON text.</summary>
    private static JsonNode Lowercase(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key.ToLowerInvariant(),
            kv.Key == "requestParameters" && kv.Value is JsonObject ? JsonValue.Create(kv.Value.ToJsonString()) : kv.Value is null ? null : Lowercase(kv.Value)))),
        JsonArray a => new JsonArray([.. a.Select(x => x is null ? null : Lowercase(x))]),
        _ => node.DeepClone(),
    };

    [CorpusFact]
    public void A_pretty_printed_records_file_reports_each_record_at_its_own_line()
    {
        var path = Write("pretty.json", new JsonObject { ["Records"] = StealRecords() }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var exfil = Scan(path).Alerts.Single(a => a.AlertType == CloudTrailRules.Exfiltration);
        var lines = File.ReadAllLines(path);
        Assert.All(exfil.Evidence, e => Assert.Equal("{", lines[e.Line - 1].Trim()));
        Assert.Equal(exfil.Evidence.Count, exfil.Evidence.Select(e => e.Line).Distinct().Count());
    }
}
