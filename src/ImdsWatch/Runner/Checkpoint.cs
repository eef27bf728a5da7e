namespace ImdsWatch.Runner;

/// <summary>
/// Where a run stopped reading a log: which file (its inode, and the fingerprint of its first bytes that finds it
/// again after a rename, a copy or compression), the byte offset and line after the last complete line, and the
/// newest record's time. <see cref="Path"/> is the live log the file was read for.
/// </summary>
public sealed record Checkpoint(string Path, long Inode, long Offset, long Line, DateTimeOffset RecordTime)
{
    /// <summary>Null for a checkpoint of an imdswatch that kept none: the inode alone then finds the file.</summary>
    public FileFingerprint? Fingerprint { get; init; }

    public DateTimeOffset SavedAt { get; init; }
}
