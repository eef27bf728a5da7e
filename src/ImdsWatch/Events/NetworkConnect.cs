using System.Net;

namespace ImdsWatch.Events;

public enum ConnectOutcome
{
    Success,

    /// <summary>EINPROGRESS (exit=-115): a non-blocking connect under way, as curl makes.</summary>
    InProgress,
    Failure,
    Unknown,
}

/// <summary>A process handed the kernel a destination address (connect, sendto, sendmsg).</summary>
public sealed record NetworkConnect : HostEvent
{
    public required IPAddress Destination { get; init; }
    public int? Port { get; init; }
    public ConnectOutcome Outcome { get; init; } = ConnectOutcome.Unknown;
    public long? Exit { get; init; }
}
