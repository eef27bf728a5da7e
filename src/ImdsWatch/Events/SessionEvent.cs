namespace ImdsWatch.Events;

/// <summary>A login, session, authentication or sudo command record (USER_LOGIN, USER_START, USER_CMD, …).</summary>
public sealed record SessionEvent : HostEvent
{
    public required string Kind { get; init; }
    public string? Account { get; init; }
    public string? Address { get; init; }
    public string? Terminal { get; init; }
    public string? Result { get; init; }
    public string? Command { get; init; }
}
