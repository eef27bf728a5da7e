using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;

namespace ImdsWatch.Sinks;

/// <summary>
/// An output format as a sink: alerts are handed to the writer in batches (NDJSON and CSV stream; the table
/// takes them all at once, since it orders and sizes its columns over every row).
/// </summary>
public sealed class WriterSink(IAlertWriter writer, TextWriter output, int batch = 256) : IAlertSink
{
    private readonly List<Alert> _pending = [];

    public void Emit(Alert alert)
    {
        _pending.Add(alert);
        if (_pending.Count >= batch)
            Flush();
    }

    public void Complete()
    {
        Flush();
        output.Flush();
    }

    private void Flush()
    {
        if (_pending.Count == 0)
            return;
        writer.Write(_pending, output);
        _pending.Clear();
    }
}
