namespace ImdsWatch.Events;

/// <summary>Where a piece of evidence is: file and line, and the record's own id (audit serial, event id).</summary>
public sealed record EvidenceRef
{
    private readonly string? _recordId;
    private readonly ulong _auditSerial;

    public EvidenceRef(string file, long line, string recordId)
    {
        File = file;
        Line = line;
        _recordId = recordId;
    }

    private EvidenceRef(string file, long line, ulong auditSerial)
    {
        File = file;
        Line = line;
        _auditSerial = auditSerial;
    }

    /// <summary>
    /// An audit record's place, its id ("audit:SERIAL") made only when asked for: the full parser makes one per exec
    /// and connect, and only the few that become alerts are asked.
    /// </summary>
    public static EvidenceRef Audit(string file, long line, ulong serial) => new(file, line, serial);

    public string File { get; }

    public long Line { get; }

    public string RecordId => _recordId ?? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"audit:{_auditSerial}");

    public bool Equals(EvidenceRef? other) =>
        other is not null && (ReferenceEquals(this, other) || (Line == other.Line && File == other.File && RecordId == other.RecordId));

    public override int GetHashCode() => HashCode.Combine(File, Line, RecordId);

    public void Deconstruct(out string file, out long line, out string recordId) => (file, line, recordId) = (File, Line, RecordId);
}
