namespace ImdsWatch.Events;

/// <summary>
/// Where a piece of evidence is: file and line, and the record's own id (audit serial, event id). A value inside its
/// event, not an object of its own: the full parser makes one per exec, and the ~40,000 execs the process table keeps
/// for ancestry each had one more object that outlived the young generation.
/// </summary>
public readonly struct EvidenceRef : IEquatable<EvidenceRef>
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

    public bool Equals(EvidenceRef other) => Line == other.Line && File == other.File && RecordId == other.RecordId;

    public override bool Equals(object? obj) => obj is EvidenceRef other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(File, Line, RecordId);

    public static bool operator ==(EvidenceRef left, EvidenceRef right) => left.Equals(right);

    public static bool operator !=(EvidenceRef left, EvidenceRef right) => !left.Equals(right);

    public void Deconstruct(out string file, out long line, out string recordId) => (file, line, recordId) = (File, Line, RecordId);

    public override string ToString() => $"EvidenceRef {{ File = {File}, Line = {Line}, RecordId = {RecordId} }}";
}
