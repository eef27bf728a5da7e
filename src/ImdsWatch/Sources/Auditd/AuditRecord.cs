namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// One audit log line, its header decoded; the body stays raw until the event is read. The full parser's records
/// live in a <see cref="AuditRecordArena"/> and are reused once their event has been normalized.
/// </summary>
public sealed class AuditRecord
{
    internal AuditRecord()
    {
    }

    public string? Node { get; internal set; }
    public int Type { get; internal set; }
    public string TypeName { get; internal set; } = "";
    public long EpochMilliseconds { get; internal set; }
    public ulong Serial { get; internal set; }
    public int SourceId { get; internal set; }
    public long Line { get; internal set; }

    /// <summary>The body: an array of its own, or a slice of one of the arena's chunks.</summary>
    public ReadOnlySpan<byte> Body => BodyBuffer.AsSpan(BodyOffset, BodyLength);

    internal byte[] BodyBuffer { get; set; } = [];
    internal int BodyOffset { get; set; }
    internal int BodyLength { get; set; }

    /// <summary>The arena chunk the body is in (null when it has an array of its own).</summary>
    internal AuditRecordArena.Chunk? Chunk { get; set; }

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(EpochMilliseconds);

    public AuditFields ReadFields() => AuditFields.Parse(Body);

    /// <summary>Indexes the body into <paramref name="fields"/>, which is reused (no allocation once it is large enough).</summary>
    internal AuditFields ReadFields(AuditFields fields) => fields.Reset(BodyBuffer, BodyOffset, BodyLength);
}
