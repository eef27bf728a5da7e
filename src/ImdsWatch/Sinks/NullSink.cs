using ImdsWatch.Alerts;

namespace ImdsWatch.Sinks;

/// <summary>Discards alerts: for commands that want the pipeline's counts or events only.</summary>
public sealed class NullSink : IAlertSink
{
    public static NullSink Instance { get; } = new();

    public void Emit(Alert alert)
    {
    }

    public void Complete()
    {
    }
}
