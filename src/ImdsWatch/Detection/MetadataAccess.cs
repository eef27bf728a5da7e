using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// One process image's use of the metadata service, whatever became of it: alerted, allowed as an agent, or
/// (with a baseline) known. Baselines learn from these and anomaly rules score them.
/// </summary>
public sealed record MetadataAccess : IObservedEvent
{
    public required string? Host { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required ProcessSnapshot Process { get; init; }

    /// <summary>Who the program is: the executable; for an interpreter its script; for a one-liner its code.</summary>
    public required string ProgramKey { get; init; }

    public required AccessClass Access { get; init; }
    public required ProgramRole Role { get; init; }

    /// <summary>A person at work: a fetch tool, a shell or one-liner, or a terminal.</summary>
    public required bool Interactive { get; init; }

    public string? Agent { get; init; }

    /// <summary>The order the detector saw the access begin in: of two accesses at one time, the earlier one.</summary>
    internal long Ordinal { get; init; }
    public Alert? Alert { get; init; }
    public IReadOnlyList<ProcessSnapshot> Ancestors { get; init; } = [];
    public IReadOnlyList<EvidenceItem> Evidence { get; init; } = [];

    EvidenceRef IObservedEvent.Evidence => Evidence.Count > 0
        ? new EvidenceRef(Evidence[0].File, Evidence[0].Line, Evidence[0].RecordId)
        : new EvidenceRef("", 0, "");
}
