namespace ImdsWatch.Sources.Auditd;

/// <summary>The records that share one (node, serial): one syscall with its auxiliary records, or one user message.</summary>
public sealed class AuditEvent(string? node, ulong serial, long epochMilliseconds)
{
    public string? Node { get; } = node;
    public ulong Serial { get; } = serial;
    public long EpochMilliseconds { get; } = epochMilliseconds;
    public List<AuditRecord> Records { get; } = [];

    /// <summary>True when records of this serial arrived after the event had been completed.</summary>
    public bool IsLateFragment { get; init; }

    internal long LastTouched { get; set; }

    internal bool IsOpen { get; set; } = true;

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(EpochMilliseconds);

    public AuditRecord? First(int type)
    {
        foreach (var r in Records)
        {
            if (r.Type == type)
                return r;
        }
        return null;
    }

    public IEnumerable<AuditRecord> All(int type)
    {
        foreach (var r in Records)
        {
            if (r.Type == type)
                yield return r;
        }
    }
}
