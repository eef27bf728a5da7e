namespace ImdsWatch.Runner;

/// <summary>Where a run stopped reading a log: the file's inode, the byte offset and line after the last complete line, and the newest record's time.</summary>
public sealed record Checkpoint(string Path, long Inode, long Offset, long Line, DateTimeOffset RecordTime);
