namespace ImdsWatch.Pipeline;

/// <summary>
/// The anomaly rules' cadence as a budget (the seed's 100 per 15 minutes): at most <see cref="Limit"/> anomaly alerts
/// in any <see cref="Period"/> of event time; the rest are held back and counted. Detection alerts never ask.
/// </summary>
public sealed class AnomalyBudget(int limit = AnomalyBudget.DefaultLimit, TimeSpan? period = null)
{
    public const int DefaultLimit = 100;
    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromMinutes(15);

    private readonly Queue<DateTimeOffset> _spent = new();

    public int Limit => limit;
    public TimeSpan Period { get; } = period ?? DefaultPeriod;

    /// <summary>Anomaly alerts held back so far.</summary>
    public long HeldBack { get; private set; }

    /// <summary>True when an anomaly alert at <paramref name="time"/> is within the budget (and spends it).</summary>
    public bool TrySpend(DateTimeOffset time)
    {
        while (_spent.Count > 0 && time - _spent.Peek() >= Period)
            _spent.Dequeue();
        if (_spent.Count >= limit)
        {
            HeldBack++;
            return false;
        }
        _spent.Enqueue(time);
        return true;
    }
}
