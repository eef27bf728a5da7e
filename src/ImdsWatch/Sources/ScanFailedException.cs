namespace ImdsWatch.Sources;

/// <summary>
/// A bug in a stage of the scan (a parser, the assembler, a rule) met at a line of a file. Bad input never ends
/// up here — readers report it as a <see cref="ParseIssue"/>; this ends the command with the place to report,
/// and the line that triggers it is the minimal input for a bug report.
/// </summary>
public sealed class ScanFailedException : Exception
{
    public ScanFailedException(string file, long line, Exception inner)
        : base($"{file}:{line}: {inner.GetType().Name}: {inner.Message}", inner)
    {
        File = file;
        Line = line;
    }

    public string File { get; }

    /// <summary>1-based line the failing stage was working on.</summary>
    public long Line { get; }

    /// <summary>Wraps <paramref name="e"/> with the place, unless it already names one or is not a bug (cancellation, I/O).</summary>
    public static Exception At(string file, long line, Exception e) =>
        e is ScanFailedException or OperationCanceledException or IOException or UnauthorizedAccessException or InvalidDataException
            or OutOfMemoryException
            ? e
            : new ScanFailedException(file, line, e);
}
