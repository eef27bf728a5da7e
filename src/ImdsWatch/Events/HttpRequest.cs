namespace ImdsWatch.Events;

/// <summary>One request from a web server, load balancer or proxy access log.</summary>
public sealed record HttpRequest : IObservedEvent
{
    public required DateTimeOffset Timestamp { get; init; }
    public required string ClientIp { get; init; }
    public required string Method { get; init; }

    /// <summary>The request target as logged: a path and query, or an absolute URL (proxies, ALB).</summary>
    public required string Target { get; init; }

    public string? HostHeader { get; init; }
    public int Status { get; init; }
    public long Bytes { get; init; }
    public string? UserAgent { get; init; }
    public required string LogKind { get; init; }
    public required EvidenceRef Evidence { get; init; }
}
