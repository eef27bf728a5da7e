using System.Text.Json;
using ImdsWatch.Events;
using ImdsWatch.Scanning;
using ImdsWatch.Sources.Input;
using static ImdsWatch.Sources.JsonFields;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// Reads CloudTrail as delivered ({"Records":[…]}, plain or .json.gz), as NDJSON (one event a line, also the
/// Logstash/OTRF style with @timestamp), or a single event. A record that cannot be read is an issue, not an end.
/// </summary>
public static class CloudTrailReader
{
    public static List<ApiCall> Read(InputSource source, List<ParseIssue> issues)
    {
        using var stream = source.Open();
        using var text = new StreamReader(stream);
        var content = text.ReadToEnd();
        var calls = new List<ApiCall>();
        var trimmed = content.AsSpan().TrimStart();
        if (trimmed.StartsWith("{\"Records\"", StringComparison.Ordinal) || (trimmed.StartsWith("{", StringComparison.Ordinal) && LooksLikeOneDocument(content)))
        {
            try
            {
                using var doc = JsonDocument.Parse(content);
                if (doc.RootElement.TryGetProperty("Records", out var records) && records.ValueKind == JsonValueKind.Array)
                {
                    var i = 0;
                    foreach (var r in records.EnumerateArray())
                        Add(r, source.Name, 1, $"Records[{i++}]", calls, issues);
                }
                else
                {
                    Add(doc.RootElement, source.Name, 1, "event", calls, issues);
                }
                return calls;
            }
            catch (JsonException e)
            {
                issues.Add(new ParseIssue(source.Name, (e.LineNumber ?? 0) + 1, $"not valid JSON: {e.Message}"));
                return calls;
            }
        }
        var lineNumber = 0L;
        foreach (var line in content.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                Add(doc.RootElement, source.Name, lineNumber, $"line {lineNumber}", calls, issues);
            }
            catch (JsonException e)
            {
                issues.Add(new ParseIssue(source.Name, lineNumber, $"not valid JSON: {e.Message}"));
            }
        }
        return calls;
    }

    private static bool LooksLikeOneDocument(string content)
    {
        var firstNewline = content.IndexOf('\n', StringComparison.Ordinal);
        return firstNewline < 0 || string.IsNullOrWhiteSpace(content[(firstNewline + 1)..]) || content.TrimEnd().EndsWith("]}", StringComparison.Ordinal);
    }

    private static void Add(JsonElement r, string file, long line, string where, List<ApiCall> calls, List<ParseIssue> issues)
    {
        if (r.ValueKind != JsonValueKind.Object)
        {
            issues.Add(new ParseIssue(file, line, $"{where}: not a JSON object"));
            return;
        }
        var time = Str(r, "eventTime") ?? Str(r, "@timestamp");
        var name = Str(r, "eventName");
        if (time is null || name is null || !DateTimeOffset.TryParse(time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var timestamp))
        {
            issues.Add(new ParseIssue(file, line, $"{where}: not a CloudTrail event (no eventName or eventTime)"));
            return;
        }
        var id = r.TryGetProperty("userIdentity", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
        var session = id.ValueKind == JsonValueKind.Object && id.TryGetProperty("sessionContext", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        var issuer = session.ValueKind == JsonValueKind.Object && session.TryGetProperty("sessionIssuer", out var si) && si.ValueKind == JsonValueKind.Object ? si : default;
        var request = r.TryGetProperty("requestParameters", out var rp) && rp.ValueKind == JsonValueKind.Object ? rp : default;
        var eventId = Str(r, "eventID") ?? $"{file}:{where}";
        calls.Add(new ApiCall
        {
            Timestamp = timestamp,
            EventId = eventId,
            EventName = name,
            EventSource = Str(r, "eventSource") ?? "",
            SourceIp = Str(r, "sourceIPAddress"),
            UserAgent = Str(r, "userAgent"),
            IdentityType = Str(id, "type"),
            PrincipalId = Str(id, "principalId"),
            Arn = Str(id, "arn"),
            AccountId = Str(id, "accountId") ?? Str(r, "recipientAccountId"),
            AccessKeyId = Str(id, "accessKeyId"),
            SessionIssuerArn = Str(issuer, "arn"),
            SessionIssuerName = Str(issuer, "userName"),
            Ec2RoleDelivery = Str(session, "ec2RoleDelivery"),
            VpcEndpointId = Str(r, "vpcEndpointId"),
            ErrorCode = Str(r, "errorCode"),
            Region = Str(r, "awsRegion"),
            RequestRoleArn = Str(request, "roleArn"),
            RequestRoleSessionName = Str(request, "roleSessionName"),
            Evidence = new EvidenceRef(file, line, $"cloudtrail:{eventId}"),
        });
    }

}
