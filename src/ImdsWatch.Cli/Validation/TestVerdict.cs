using ImdsWatch.Alerts;

namespace ImdsWatch.Cli.Validation;

public enum Outcome
{
    Pass,
    Fail,
    Skip,
}

/// <summary>What one test produced and whether that is what it should.</summary>
public sealed record TestVerdict(
    ValidationTest Test,
    Outcome Outcome,
    string Reason,
    IReadOnlyList<string> Observed,
    IReadOnlyList<Alert> Alerts,
    int ExitCode,
    string Output);
