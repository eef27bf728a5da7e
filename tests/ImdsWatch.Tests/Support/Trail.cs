using System.Text.Json;

namespace ImdsWatch.Tests.Support;

/// <summary>CloudTrail records in the shape AWS writes them, for tests.</summary>
public static class Trail
{
    public static string Call(string eventName, string ip, string time, string? instance = "i-0abc1234567890def", string role = "app-role",
        string userAgent = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0 botocore/2.4.5", string? delivery = "2.0", string type = "AssumedRole",
        string? vpcEndpoint = null, string eventSource = "s3.amazonaws.com", string? id = null)
    {
        var identity = type == "AssumedRole"
            ? new Dictionary<string, object?>
            {
                ["type"] = "AssumedRole",
                ["principalId"] = $"AROAEXAMPLE:{instance}",
                ["arn"] = $"arn:aws:sts::111122223333:assumed-role/{role}/{instance}",
                ["accountId"] = "111122223333",
                ["accessKeyId"] = "ASIAEXAMPLE",
                ["sessionContext"] = new Dictionary<string, object?>
                {
                    ["sessionIssuer"] = new { type = "Role", arn = $"arn:aws:iam::111122223333:role/{role}", userName = role },
                    ["ec2RoleDelivery"] = delivery,
                },
            }
            : new Dictionary<string, object?> { ["type"] = type, ["principalId"] = "AIDAEXAMPLE", ["arn"] = "arn:aws:iam::111122223333:user/alice", ["accountId"] = "111122223333" };
        var record = new Dictionary<string, object?>
        {
            ["eventVersion"] = "1.08",
            ["userIdentity"] = identity,
            ["eventTime"] = time,
            ["eventSource"] = eventSource,
            ["eventName"] = eventName,
            ["awsRegion"] = "us-east-1",
            ["sourceIPAddress"] = ip,
            ["userAgent"] = userAgent,
            ["eventID"] = id ?? Guid.NewGuid().ToString(),
            ["eventType"] = "AwsApiCall",
            ["recipientAccountId"] = "111122223333",
        };
        if (vpcEndpoint is not null)
            record["vpcEndpointId"] = vpcEndpoint;
        return JsonSerializer.Serialize(record);
    }

    public static string Records(params string[] calls) => "{\"Records\":[" + string.Join(',', calls) + "]}";
}
