using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;

namespace ImdsWatch.Sinks;

/// <summary>
/// The table's sink: a table is laid out over all its rows at once, so it keeps the <paramref name="limit"/> most
/// severe alerts (severity, then risk, then the earliest; a bounded heap, so memory does not grow with the number
/// of alerts), writes them at the end, and says how many more there were and how to see every one.
/// </summary>
public sealed class MostSevereSink(IAlertWriter writer, TextWriter output, int limit = MostSevereSink.DefaultLimit) : IAlertSink
{
    /// <summary>Rows of a table at a terminal: past this, a person wants the worst first and a file for the rest.</summary>
    public const int DefaultLimit = 1000;

    // The root is the least severe alert kept: the first to go when a more severe one arrives.
    private readonly PriorityQueue<Alert, Alert> _kept = new(Comparer<Alert>.Create((x, y) => -MoreSevereFirst(x, y)));

    /// <summary>Alerts received but not kept.</summary>
    public long NotShown { get; private set; }

    public void Emit(Alert alert)
    {
        if (_kept.Count < limit)
        {
            _kept.Enqueue(alert, alert);
            return;
        }
        NotShown++;
        if (MoreSevereFirst(alert, _kept.Peek()) < 0)
            _kept.EnqueueDequeue(alert, alert);
    }

    public void Complete()
    {
        var alerts = _kept.UnorderedItems.Select(x => x.Element).ToList();
        alerts.Sort(MoreSevereFirst);
        _kept.Clear();
        writer.Write(alerts, output);
        if (NotShown > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"… and {NotShown} more alert(s) not shown: the table lists the {limit} most severe; --format ndjson or --format csv lists every one (--min-severity narrows them)"));
        }
        output.Flush();
    }

    /// <summary>Most severe first: severity, risk score, then the earliest, then by id (a total order: the same table whatever the arrival order).</summary>
    internal static int MoreSevereFirst(Alert x, Alert y)
    {
        var c = y.Severity.CompareTo(x.Severity);
        if (c == 0)
            c = y.RiskScore.CompareTo(x.RiskScore);
        if (c == 0)
            c = x.Timestamp.CompareTo(y.Timestamp);
        return c != 0 ? c : string.CompareOrdinal(x.Id, y.Id);
    }
}
