namespace ImdsWatch.Events;

/// <summary>One CloudTrail record: who called which AWS API, from where, with which credentials.</summary>
public sealed record ApiCall : IObservedEvent
{
    public required DateTimeOffset Timestamp { get; init; }
    public required string EventId { get; init; }
    public required string EventName { get; init; }
    public required string EventSource { get; init; }
    public string? SourceIp { get; init; }
    public string? UserAgent { get; init; }
    public string? IdentityType { get; init; }
    public string? PrincipalId { get; init; }
    public string? Arn { get; init; }
    public string? AccountId { get; init; }
    public string? AccessKeyId { get; init; }
    public string? SessionIssuerArn { get; init; }
    public string? SessionIssuerName { get; init; }

    /// <summary>"1.0" when the credentials came from IMDSv1, "2.0" from IMDSv2 (sessionContext.ec2RoleDelivery).</summary>
    public string? Ec2RoleDelivery { get; init; }

    public string? VpcEndpointId { get; init; }
    public string? ErrorCode { get; init; }
    public string? Region { get; init; }
    public string? RequestRoleArn { get; init; }
    public string? RequestRoleSessionName { get; init; }

    /// <summary>Instances a call was aimed at (requestParameters.instanceIds: SendCommand, StartSession …).</summary>
    public IReadOnlyList<string> RequestInstanceIds { get; init; } = [];

    public required EvidenceRef Evidence { get; init; }

    /// <summary>The instance whose role session this is: the session name "i-…" of an EC2 instance profile.</summary>
    public string? InstanceId
    {
        get
        {
            var session = PrincipalId is { } p && p.Contains(':', StringComparison.Ordinal) ? p[(p.LastIndexOf(':') + 1)..]
                : Arn is { } a && a.Contains("assumed-role/", StringComparison.Ordinal) ? a[(a.LastIndexOf('/') + 1)..] : null;
            return session is not null && session.StartsWith("i-", StringComparison.Ordinal) && session.Length >= 10 ? session : null;
        }
    }

    public string? RoleName => SessionIssuerName ?? (Arn is { } a && a.Contains("assumed-role/", StringComparison.Ordinal) ? a.Split('/')[^2] : null);
}
