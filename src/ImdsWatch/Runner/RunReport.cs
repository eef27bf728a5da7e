using ImdsWatch.Alerts;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Runner;

/// <param name="HeldBack">Alerts over --max-alerts kept for the next run.</param>
/// <param name="Dropped">Alerts over --max-alerts that the held-back queue had no room for.</param>
public sealed record RunReport(
    DateTimeOffset Now,
    IReadOnlyList<Alert> Raised,
    int AlreadyRaised,
    int HeldBack,
    int Silenced,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> LearningHosts,
    ScanResult Scan)
{
    public int Dropped { get; init; }
}
