namespace ImdsWatch.Scanning;

/// <summary>A line that could not be read as intended. Reported with file and line; the scan goes on.</summary>
public sealed record ParseIssue(string File, long Line, string Reason)
{
    public override string ToString() => $"{File}:{Line}: {Reason}";
}
