namespace ImdsWatch.Alerts;

/// <summary>The cloud side of an alert: the identity and the API calls behind it.</summary>
public sealed record CloudContext
{
    public string? AccountId { get; init; }
    public string? Region { get; init; }
    public string? InstanceId { get; init; }
    public string? RoleName { get; init; }
    public string? PrincipalArn { get; init; }
    public string? AccessKeyId { get; init; }
    public string? SourceIp { get; init; }
    public string? UserAgent { get; init; }
    public string? Delivery { get; init; }
    public IReadOnlyList<string> EventIds { get; init; } = [];
    public IReadOnlyList<string> EventNames { get; init; } = [];
}
