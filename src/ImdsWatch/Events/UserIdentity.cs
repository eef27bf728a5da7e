namespace ImdsWatch.Events;

/// <summary>
/// Who ran the process: the real uid, the audit (login) uid, the effective uid, with names when known. A value held
/// in its <see cref="ProcessSnapshot"/>, not an object of its own: the full parser makes one per exec.
/// </summary>
public readonly record struct UserIdentity(long? Uid, string? Name, long? AuditUid, string? AuditName, long? EffectiveUid, string? EffectiveName)
{
    public const long UnsetAuditUid = 4294967295;

    public static UserIdentity Unknown => default;
}
