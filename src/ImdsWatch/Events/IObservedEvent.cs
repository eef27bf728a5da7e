namespace ImdsWatch.Events;

/// <summary>
/// What every source yields and every rule sees: something that happened, when, and where its evidence is.
/// The closed set: <see cref="HostEvent"/> (exec, connect, session), <see cref="HttpRequest"/>,
/// <see cref="ApiCall"/> and <see cref="LogMessage"/>.
/// </summary>
public interface IObservedEvent
{
    DateTimeOffset Timestamp { get; }

    EvidenceRef Evidence { get; }
}
