namespace ImdsWatch.Sources.CloudTrail;

/// <summary>What a CloudTrail scan read, and what its bounded state had to let go of (reported, never silent).</summary>
public sealed record CloudTrailStats
{
    public int Files { get; init; }

    /// <summary>Bytes after decompression.</summary>
    public long Bytes { get; init; }

    public long Records { get; init; }

    /// <summary>Records that could not be read (each one is a parse issue).</summary>
    public long Unreadable { get; init; }

    /// <summary>Records read as API calls (those passed over as unable to matter included).</summary>
    public long Events => Records - Unreadable;

    /// <summary>Records that could matter to a rule, parsed field by field and passed on as calls.</summary>
    public long Calls { get; init; }

    /// <summary>Calls that reached the rules later than one released after them (more than the merge horizon late).</summary>
    public long OutOfOrder { get; init; }

    /// <summary>Per table of the rules' state (sessions, instances, addresses, v1 deliveries): entries let go of at the bound.</summary>
    public IReadOnlyDictionary<string, long> Evicted { get; init; } = new Dictionary<string, long>();

    /// <summary>Calls not kept as evidence because the evidence budget was spent (the counts stay exact).</summary>
    public long EvidenceNotKept { get; init; }
}
