using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;

namespace ImdsWatch.Emulator;

/// <summary>
/// Answers like the real services do, closely enough that real clients work: AWS IMDSv1/v2 (token PUT, 401
/// without a token when required, X-Forwarded-For refused), Azure (400 without Metadata: true), GCP
/// (403 without Metadata-Flavor: Google), ECS and EKS Pod Identity credentials, Alibaba RAM, Oracle /opc/v2.
/// </summary>
public sealed class MetadataResponder(EmulatorOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new(StringComparer.Ordinal);

    public EmulatorResponse Respond(EmulatorRequest r)
    {
        var path = r.Path;
        if (path.StartsWith("/latest/api/token", StringComparison.Ordinal))
            return AwsToken(r);
        if (path.StartsWith("/latest/meta-data/ram/", StringComparison.Ordinal))
            return Alibaba(path);
        if (path.StartsWith("/latest", StringComparison.Ordinal))
            return Aws(r);
        if (path.StartsWith("/metadata/", StringComparison.Ordinal))
            return Azure(r);
        if (path.StartsWith("/computeMetadata/", StringComparison.Ordinal))
            return Gcp(r);
        if (path.StartsWith("/v2/credentials", StringComparison.Ordinal))
            return Json(AwsCredentials(roleArn: true));
        if (path.StartsWith("/v1/credentials", StringComparison.Ordinal))
            return r.Header("Authorization") is null ? Text(400, "missing Authorization") : Json(AwsCredentials(roleArn: false));
        if (path.StartsWith("/opc/", StringComparison.Ordinal))
            return Oracle(r);
        if (path is "/" or "")
            return Text(200, "1.0\n2007-01-19\nlatest\n");
        return Text(404, "Not Found");
    }

    private EmulatorResponse AwsToken(EmulatorRequest r)
    {
        if (r.Method != "PUT")
            return Text(405, "");
        if (r.Header("X-Forwarded-For") is not null)
            return Text(403, "Forbidden");
        if (!int.TryParse(r.Header("X-aws-ec2-metadata-token-ttl-seconds"), out var ttl) || ttl is < 1 or > 21600)
            return Text(400, "Bad Request");
        var token = "IMDSWATCH-CANARY-" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=');
        _tokens[token] = clock.GetUtcNow().AddSeconds(ttl);
        return Text(200, token) with { Headers = new() { ["X-aws-ec2-metadata-token-ttl-seconds"] = ttl.ToString(CultureInfo.InvariantCulture) } };
    }

    private EmulatorResponse Aws(EmulatorRequest r)
    {
        var token = r.Header("X-aws-ec2-metadata-token");
        if (token is not null && (!_tokens.TryGetValue(token, out var expires) || expires < clock.GetUtcNow()))
            return Text(401, "Unauthorized");
        if (token is null && options.RequireImdsV2)
            return Text(401, "Unauthorized");
        var p = r.Path.TrimEnd('/');
        return p switch
        {
            "/latest" => Text(200, "dynamic\nmeta-data\nuser-data\n"),
            "/latest/meta-data" => Text(200, "ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-ipv4\nplacement/\n"),
            "/latest/meta-data/iam" => Text(200, "info\nsecurity-credentials/\n"),
            "/latest/meta-data/iam/security-credentials" => Text(200, Canary.AwsRole),
            "/latest/meta-data/iam/security-credentials/" + Canary.AwsRole => Json(AwsCredentials(roleArn: false)),
            "/latest/meta-data/iam/info" => Json(new JsonObject { ["Code"] = "Success", ["InstanceProfileArn"] = $"arn:aws:iam::{Canary.AccountId}:instance-profile/{Canary.AwsRole}", ["InstanceProfileId"] = "AIPAIMDSWATCHCANARY" }),
            "/latest/meta-data/instance-id" => Text(200, Canary.InstanceId),
            "/latest/meta-data/ami-id" => Text(200, "ami-0imdswatchcanary"),
            "/latest/meta-data/hostname" => Text(200, "ip-10-0-0-1.ec2.internal"),
            "/latest/meta-data/instance-type" => Text(200, "t3.micro"),
            "/latest/meta-data/local-ipv4" => Text(200, "10.0.0.1"),
            "/latest/meta-data/placement/region" => Text(200, "us-east-1"),
            "/latest/user-data" => Text(200, Canary.UserData),
            "/latest/dynamic/instance-identity/document" => Json(new JsonObject { ["accountId"] = Canary.AccountId, ["instanceId"] = Canary.InstanceId, ["region"] = "us-east-1", ["instanceType"] = "t3.micro", ["imageId"] = "ami-0imdswatchcanary" }),
            _ => Text(404, "Not Found"),
        };
    }

    private JsonObject AwsCredentials(bool roleArn)
    {
        var now = clock.GetUtcNow();
        var common = new JsonObject
        {
            ["Code"] = "Success",
            ["LastUpdated"] = now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["Type"] = "AWS-HMAC",
            ["AccessKeyId"] = Canary.AwsAccessKeyId,
            ["SecretAccessKey"] = Canary.AwsSecret,
            ["Token"] = Canary.SessionToken,
            ["Expiration"] = now.AddHours(6).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        if (roleArn)
            common["RoleArn"] = $"arn:aws:iam::{Canary.AccountId}:role/{Canary.AwsRole}";
        return common;
    }

    private EmulatorResponse Alibaba(string path) => path.TrimEnd('/') switch
    {
        "/latest/meta-data/ram/security-credentials" => Text(200, Canary.AlibabaRole),
        "/latest/meta-data/ram/security-credentials/" + Canary.AlibabaRole => Json(new JsonObject
        {
            ["AccessKeyId"] = "STS.IMDSWATCHCANARY",
            ["AccessKeySecret"] = "imdswatch-canary-alibaba-secret",
            ["SecurityToken"] = Canary.SessionToken,
            ["Expiration"] = clock.GetUtcNow().AddHours(6).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["Code"] = "Success",
        }),
        _ => Text(404, "Not Found"),
    };

    private static EmulatorResponse Azure(EmulatorRequest r)
    {
        if (r.Header("X-Forwarded-For") is not null || !string.Equals(r.Header("Metadata"), "true", StringComparison.OrdinalIgnoreCase))
            return Json(new JsonObject { ["error"] = "Bad request. Required metadata header not specified" }, 400);
        if (r.Path.StartsWith("/metadata/identity/oauth2/token", StringComparison.Ordinal))
        {
            return Json(new JsonObject
            {
                ["access_token"] = Canary.AzureToken,
                ["client_id"] = "00000000-0000-0000-0000-000000000000",
                ["expires_in"] = "86399",
                ["expires_on"] = DateTimeOffset.UtcNow.AddDays(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                ["ext_expires_in"] = "86399",
                ["not_before"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                ["resource"] = r.Query("resource") ?? "https://management.azure.com/",
                ["token_type"] = "Bearer",
            });
        }
        if (r.Path.StartsWith("/metadata/instance", StringComparison.Ordinal))
            return Json(new JsonObject { ["compute"] = new JsonObject { ["name"] = "imdswatch-canary-vm", ["vmId"] = "00000000-0000-0000-0000-imdswatch000", ["location"] = "eastus", ["userData"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Canary.UserData)) } });
        return Text(404, "Not Found");
    }

    private static EmulatorResponse Gcp(EmulatorRequest r)
    {
        if (r.Header("X-Forwarded-For") is not null || !string.Equals(r.Header("Metadata-Flavor"), "Google", StringComparison.Ordinal))
            return Text(403, "Missing required header: Metadata-Flavor") with { Headers = new() { ["Metadata-Flavor"] = "Google" } };
        var p = r.Path;
        var response = p switch
        {
            _ when p.EndsWith("/token", StringComparison.Ordinal) && p.Contains("/service-accounts/", StringComparison.Ordinal) =>
                Json(new JsonObject { ["access_token"] = Canary.GcpToken, ["expires_in"] = 3599, ["token_type"] = "Bearer" }),
            _ when p.EndsWith("/identity", StringComparison.Ordinal) => Text(200, "eyJhbGciOiJub25lIn0.IMDSWATCH-CANARY-gcp-identity."),
            _ when p.EndsWith("/email", StringComparison.Ordinal) => Text(200, "imdswatch-canary@imdswatch-canary.iam.gserviceaccount.com"),
            "/computeMetadata/v1/project/project-id" => Text(200, "imdswatch-canary"),
            "/computeMetadata/v1/instance/id" => Text(200, "0000000000000000000"),
            "/computeMetadata/v1/instance/service-accounts/" => Text(200, "default/\n"),
            "/computeMetadata/v1/instance/attributes/startup-script" => Text(200, Canary.UserData),
            "/computeMetadata/v1/" or "/computeMetadata/v1" => Text(200, "instance/\noauth/\nproject/\n"),
            _ => Text(404, "Not Found"),
        };
        return response with { Headers = new() { ["Metadata-Flavor"] = "Google" } };
    }

    private static EmulatorResponse Oracle(EmulatorRequest r)
    {
        if (r.Path.StartsWith("/opc/v2/", StringComparison.Ordinal) && r.Header("Authorization") != "Bearer Oracle")
            return Json(new JsonObject { ["code"] = "NotAuthenticated", ["message"] = "Authorization: Bearer Oracle header is required" }, 401);
        if (r.Path.Contains("/identity/", StringComparison.Ordinal))
            return Text(200, "-----BEGIN CERTIFICATE-----\nIMDSWATCH-CANARY-oracle-instance-principal\n-----END CERTIFICATE-----\n");
        if (r.Path.StartsWith("/opc/v2/instance", StringComparison.Ordinal) || r.Path.StartsWith("/opc/v1/instance", StringComparison.Ordinal))
            return Json(new JsonObject { ["id"] = "ocid1.instance.oc1..imdswatchcanary", ["displayName"] = "imdswatch-canary", ["region"] = "iad" });
        return Text(404, "Not Found");
    }

    private static EmulatorResponse Text(int status, string body) => new(status, "text/plain", body);

    private static EmulatorResponse Json(JsonObject body, int status = 200) => new(status, "application/json", body.ToJsonString());
}

public sealed record EmulatorRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, IReadOnlyDictionary<string, string> QueryValues)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    public string? Query(string name) => QueryValues.TryGetValue(name, out var v) ? v : null;
}

public sealed record EmulatorResponse(int Status, string ContentType, string Body)
{
    public Dictionary<string, string> Headers { get; init; } = [];
}
