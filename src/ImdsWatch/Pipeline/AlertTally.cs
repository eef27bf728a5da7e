using ImdsWatch.Alerts;

namespace ImdsWatch.Pipeline;

/// <summary>
/// The alerts of a run counted as they pass, by severity and type, for the summary and the exit code: the counts a
/// list of every alert would give, without the list.
/// </summary>
public sealed class AlertTally(Severity minimum = Severity.Low)
{
    private readonly long[] _bySeverity = new long[Enum.GetValues<Severity>().Max(s => (int)s) + 1];
    private readonly Dictionary<AlertType, long> _byType = [];

    /// <summary>Alerts below this reached no sink (they are counted all the same).</summary>
    public Severity Minimum { get; } = minimum;

    /// <summary>Every alert raised, whatever its severity.</summary>
    public long Total { get; private set; }

    /// <summary>Alerts at or above <see cref="Minimum"/>: those the sinks received.</summary>
    public long Reported => Enum.GetValues<Severity>().Where(s => s >= Minimum).Sum(BySeverity);

    public long BySeverity(Severity severity) => _bySeverity[(int)severity];

    public long ByType(AlertType type) => _byType.GetValueOrDefault(type);

    public void Count(Alert alert)
    {
        Total++;
        _bySeverity[(int)alert.Severity]++;
        _byType[alert.AlertType] = _byType.GetValueOrDefault(alert.AlertType) + 1;
    }
}
