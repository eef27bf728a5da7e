namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// A bug that ended a worker of pass one, with the offset of the block it was classifying; the scan finds the line
/// (<see cref="PrefilteredAuditScan"/>) and ends with a <see cref="ScanFailedException"/>.
/// </summary>
internal sealed class PassOneFailure(long blockOffset, Exception inner)
    : Exception($"pass one failed in the block at byte {blockOffset}: {inner.Message}", inner)
{
    public long BlockOffset { get; } = blockOffset;
}
