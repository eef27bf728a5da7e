namespace ImdsWatch.Sources.Auditd;

/// <summary>The records that share one (node, serial): one syscall with its auxiliary records, or one user message.</summary>
public sealed class AuditEvent(string? node, ulong serial, long epochMilliseconds)
{
    public string? Node { get; private set; } = node;
    public ulong Serial { get; private set; } = serial;
    public long EpochMilliseconds { get; private set; } = epochMilliseconds;
    public List<AuditRecord> Records { get; } = [];

    /// <summary>True when records of this serial arrived after the event had been completed.</summary>
    public bool IsLateFragment { get; internal set; }

    internal long LastTouched { get; set; }

    internal bool IsOpen { get; set; } = true;

    /// <summary>The event, read and done with, made a new one (the assembler reuses them; its records list keeps its room).</summary>
    internal AuditEvent Reuse(string? node, ulong serial, long epochMilliseconds)
    {
        Node = node;
        Serial = serial;
        EpochMilliseconds = epochMilliseconds;
        Records.Clear();
        IsLateFragment = false;
        LastTouched = 0;
        IsOpen = true;
        return this;
    }

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(EpochMilliseconds);

    public AuditRecord? First(int type)
    {
        // By index over the list's span: the enumerator of a list of a reference type is shared code a native build
        // does not inline, and the normalizer asks several times per event.
        foreach (var r in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Records))
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
