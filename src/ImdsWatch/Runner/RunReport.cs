using ImdsWatch.Alerts;
using ImdsWatch.Scanning;

namespace ImdsWatch.Runner;

public sealed record RunReport(
    DateTimeOffset Now,
    IReadOnlyList<Alert> Raised,
    int AlreadyRaised,
    int HeldBack,
    int Silenced,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<string> LearningHosts,
    ScanResult Scan);
