namespace ImdsWatch.Events;

/// <summary>Who ran the process: the real uid, the audit (login) uid, the effective uid, with names when known.</summary>
public sealed record UserIdentity(long? Uid, string? Name, long? AuditUid, string? AuditName, long? EffectiveUid, string? EffectiveName)
{
    public const long UnsetAuditUid = 4294967295;

    public static UserIdentity Unknown { get; } = new(null, null, null, null, null, null);
}
