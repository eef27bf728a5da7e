namespace ImdsWatch.Events;

/// <summary>What a record tells of the process at that moment.</summary>
public sealed record ProcessSnapshot
{
    /// <summary>No process: the alert comes from a log that does not name one (CloudTrail, a web log).</summary>
    public static ProcessSnapshot None { get; } = new() { Pid = 0 };

    public bool IsNone => Pid <= 0 && Executable is null && Args.Count == 0;

    public required int Pid { get; init; }
    public int? ParentPid { get; init; }
    public string? Executable { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>True when <see cref="Args"/> came from PROCTITLE (the kernel keeps only its first 128 bytes).</summary>
    public bool ArgsFromProctitle { get; init; }

    public string? WorkingDirectory { get; init; }
    public string? Tty { get; init; }
    public string? Session { get; init; }
    public UserIdentity User { get; init; } = UserIdentity.Unknown;
    public IReadOnlyList<FileRef> Files { get; init; } = [];

    public string CommandLine => string.Join(' ', Args.Select(QuoteIfNeeded));

    public bool HasTerminal => Tty is { Length: > 0 } t && t != "(none)";

    private static string QuoteIfNeeded(string a) =>
        a.Length == 0 || a.AsSpan().IndexOfAny(" \t\n\"'") >= 0 ? "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'" : a;
}
