namespace ImdsWatch.Sources.Auditd;

/// <summary>One audit log line, its header decoded; the body stays raw until the event is read.</summary>
public sealed class AuditRecord
{
    public required string? Node { get; init; }
    public required int Type { get; init; }
    public required string TypeName { get; init; }
    public required long EpochMilliseconds { get; init; }
    public required ulong Serial { get; init; }
    public required byte[] Body { get; init; }
    public required int SourceId { get; init; }
    public required long Line { get; init; }

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(EpochMilliseconds);

    public AuditFields ReadFields() => AuditFields.Parse(Body);

    internal AuditFields ReadFields(CloudTrail.StringPool strings) => AuditFields.Parse(Body, strings);
}
