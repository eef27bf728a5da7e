namespace ImdsWatch.Events;

/// <summary>
/// A file named by the exec (a PATH record): the program, the script, the loader. A value in its snapshot's array,
/// not an object of its own: the full parser makes two per exec and the process table keeps ~40,000 execs, every
/// object of which the collector copies up to gen2.
/// </summary>
public readonly record struct FileRef(string Name, long? OwnerUid, string? NameType);
