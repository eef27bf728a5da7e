using ImdsWatch.Alerts;
using ImdsWatch.Sinks;
using ImdsWatch.Store;

namespace ImdsWatch.Runner;

/// <summary>
/// What one run raises, chosen as the alerts stream out of the pipeline: first the alerts earlier runs held back,
/// then those of the window in the order they became final, each not raised before; the first
/// <see cref="RunOptions.MaxAlerts"/> go to the output at once, the next <see cref="RunOptions.MaxHeldBack"/> are
/// held for the next run, the rest are counted as dropped. Memory is bounded by those two numbers, never by how
/// many alerts the logs hold. Nothing is stored here: the runner stores what was raised after the output completed.
/// </summary>
internal sealed class RunSelection(IAlertSink output, AlertRepository stored, DateTimeOffset windowStart, DateTimeOffset now, RunOptions options) : IAlertSink
{
    // Ids raised or held by this run: an alert offered twice (the held-back queue and the logs) counts once.
    private readonly HashSet<string> _kept = new(StringComparer.Ordinal);

    public List<Alert> Raised { get; } = [];

    public List<Alert> Held { get; } = [];

    /// <summary>Alerts of the window that an earlier run raised (overlapping windows).</summary>
    public int AlreadyRaised { get; private set; }

    /// <summary>Alerts over --max-alerts that the held-back queue had no room for.</summary>
    public int Dropped { get; private set; }

    /// <summary>The alerts earlier runs held back: raised first.</summary>
    public void Begin(IEnumerable<Alert> heldBefore)
    {
        foreach (var alert in heldBefore)
            Offer(alert);
    }

    public void Emit(Alert alert)
    {
        if (alert.Timestamp >= windowStart && alert.Timestamp <= now)
            Offer(alert);
    }

    /// <summary>Written out (and flushed) before anything says it was raised.</summary>
    public void Complete() => output.Complete();

    private void Offer(Alert alert)
    {
        if (_kept.Contains(alert.Id))
            return;
        if (stored.Exists(alert.Id))
        {
            AlreadyRaised++;
            return;
        }
        if (Raised.Count < options.MaxAlerts)
        {
            _kept.Add(alert.Id);
            Raised.Add(alert);
            output.Emit(alert);
        }
        else if (Held.Count < options.MaxHeldBack)
        {
            _kept.Add(alert.Id);
            Held.Add(alert);
        }
        else
        {
            Dropped++;
        }
    }
}
