using ImdsWatch.Sources.Input;

namespace ImdsWatch.Runner;

/// <summary>One file a run reads for a live log, from where, and which file it is (for the next checkpoint).</summary>
public sealed record Segment(InputSource Source, long Inode, FileFingerprint Fingerprint);
