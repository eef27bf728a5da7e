namespace ImdsWatch.Detection.Cloud;

/// <summary>
/// Bounds on the CloudTrail rules' state. At the defaults the rules hold under ~150 MB whatever the input
/// (sessions and addresses ~0.5 KB each without evidence, evidence calls ~0.6 KB each); an organisation trail with more live
/// sessions than this lets the least recently used go (judged first) and reports how many.
/// </summary>
public sealed record CloudTrailLimits
{
    /// <summary>Instance sessions used from an address that is not (yet) the instance's own.</summary>
    public int Sessions { get; init; } = 100_000;

    public int Instances { get; init; } = 100_000;

    /// <summary>Addresses people (IAM users, root, console, federated) called from.</summary>
    public int Addresses { get; init; } = 100_000;

    /// <summary>Instance roles whose IMDSv1-delivered credentials were used.</summary>
    public int ImdsV1Roles { get; init; } = 20_000;

    /// <summary>Calls kept as evidence across all sessions (beyond each session's first).</summary>
    public int EvidenceCalls { get; init; } = 25_000;
}
