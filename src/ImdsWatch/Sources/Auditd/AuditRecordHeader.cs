namespace ImdsWatch.Sources.Auditd;

/// <summary>Where the parts of an audit line are, decoded without allocating.</summary>
public readonly record struct AuditRecordHeader(
    int Type, int TypeStart, int TypeLength, int NodeStart, int NodeLength, long EpochMilliseconds, ulong Serial, int BodyStart);
