using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;

namespace ImdsWatch.Sinks;

/// <summary>Alerts as NDJSON on standard output, a line each, flushed at once (for a pipe or journald).</summary>
public sealed class StdoutSink(TextWriter output, Severity minimum = Severity.Low) : IAlertSink
{
    private readonly Lock _lock = new();

    public void Emit(Alert alert)
    {
        if (alert.Severity < minimum)
            return;
        lock (_lock)
        {
            output.Write(NdjsonAlertWriter.ToJson(alert, DateTimeOffset.UtcNow));
            output.Write('\n');
            output.Flush();
        }
    }

    public void Complete() => output.Flush();
}
