using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Sources;

namespace ImdsWatch.Pipeline;

public sealed record ScanResult
{
    /// <summary>
    /// Every alert in time order, then by id: only <see cref="DetectionPipeline.Scan"/> keeps them (tests and tools);
    /// <see cref="DetectionPipeline.Run"/> hands them to its sink and counts them in <see cref="Tally"/>.
    /// </summary>
    public IReadOnlyList<Alert> Alerts { get; init; } = [];

    /// <summary>Every alert raised, counted by severity and type as it passed (also those below the minimum severity).</summary>
    public AlertTally Tally { get; init; } = new();

    /// <summary>The accesses the pipeline was asked to keep (<see cref="DetectionPipeline.KeepingAccesses"/>; Scan: all).</summary>
    public IReadOnlyList<MetadataAccess> Accesses { get; init; } = [];
    public IReadOnlyList<Events.SessionEvent> Sessions { get; init; } = [];
    public required DetectionStats Detection { get; init; }
    public required IReadOnlyList<ParseIssue> Issues { get; init; }
    public required long IssueCount { get; init; }
    public required IReadOnlyList<string> Files { get; init; }
    public IReadOnlyDictionary<ImdsWatch.Sources.Input.LogFormat, int> Formats { get; init; } = new Dictionary<ImdsWatch.Sources.Input.LogFormat, int>();
    public int ApiCalls { get; init; }
    public int HttpRequests { get; init; }

    /// <summary>What the CloudTrail files held, and what the rules' bounded state let go of.</summary>
    public ImdsWatch.Sources.CloudTrail.CloudTrailStats? CloudTrail { get; init; }
    public required long Lines { get; init; }
    public required long Records { get; init; }
    public required long Events { get; init; }
    public required long Bytes { get; init; }
    public required long LateRecords { get; init; }
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Audit records the prefilter let through to the full parser, of <see cref="Records"/>.</summary>
    public long RecordsParsed { get; init; }

    /// <summary>What each input's source read, in input order (where a checkpoint resumes).</summary>
    public IReadOnlyList<Sources.SourceStats> Inputs { get; init; } = [];

    /// <summary>Accesses the baseline knew, whose alerts were silenced.</summary>
    public int SilencedByBaseline { get; init; }
}
