namespace ImdsWatch.Events;

/// <summary>A free-text log message (syslog): the program that logged it and what it said.</summary>
public sealed record LogMessage : IObservedEvent
{
    public required DateTimeOffset Timestamp { get; init; }
    public required string Host { get; init; }
    public required string Program { get; init; }
    public int? Pid { get; init; }
    public required string Message { get; init; }
    public required EvidenceRef Evidence { get; init; }
}
