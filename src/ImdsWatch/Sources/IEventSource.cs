using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources;

/// <summary>
/// One log format: reads an input from its start (or checkpoint) to its end, handing every event and every
/// unreadable line to <paramref name="context"/> in order. Never holds a whole file; never throws for bad input.
/// </summary>
public interface IEventSource
{
    void Read(InputSource input, SourceContext context, CancellationToken cancellation);
}
