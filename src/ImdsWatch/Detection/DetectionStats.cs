namespace ImdsWatch.Detection;

/// <summary>What the detector saw, including what it decided not to alert on and why.</summary>
public sealed class DetectionStats
{
    public long Execs { get; set; }
    public long Connects { get; set; }
    public long MetadataConnects { get; set; }
    public long Mentions { get; set; }
    public Dictionary<string, long> AllowedByAgent { get; } = new(StringComparer.Ordinal);
    public List<string> MentionSamples { get; } = [];

    /// <summary>Per table of the CloudTrail rules' bounded state: entries let go of at the bound (judged first).</summary>
    public Dictionary<string, long> CloudEvicted { get; } = new(StringComparer.Ordinal);

    /// <summary>Live (the agent): per table of a rule's bounded state, entries let go of at the bound.</summary>
    public Dictionary<string, long> Evicted { get; } = new(StringComparer.Ordinal);

    /// <summary>CloudTrail calls not kept as evidence because the evidence budget was spent (the counts stay exact).</summary>
    public long CloudEvidenceNotKept { get; set; }

    /// <summary>Hosts whose baseline is younger than the learning period: their anomaly rules are silent.</summary>
    public SortedSet<string> LearningHosts { get; } = new(StringComparer.Ordinal);
}
