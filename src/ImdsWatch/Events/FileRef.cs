namespace ImdsWatch.Events;

/// <summary>A file named by the exec (a PATH record): the program, the script, the loader.</summary>
public sealed record FileRef(string Name, long? OwnerUid, string? NameType);
