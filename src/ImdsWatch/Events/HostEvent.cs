namespace ImdsWatch.Events;

/// <summary>A normalized host-side event, whatever source produced it.</summary>
public abstract record HostEvent : IObservedEvent
{
    public required DateTimeOffset Timestamp { get; init; }
    public required string? Host { get; init; }

    /// <summary>The source's ordering key (the audit serial), since timestamps are too coarse to order by.</summary>
    public required ulong Sequence { get; init; }

    public required ProcessSnapshot Process { get; init; }
    public required EvidenceRef Evidence { get; init; }
    public required EventOrigin Source { get; init; }
    public string? Syscall { get; init; }
    public string? AuditKey { get; init; }
}
