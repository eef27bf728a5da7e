namespace ImdsWatch.Sources;

/// <summary>A line that could not be read as intended. Reported with file and line; the scan goes on.</summary>
public sealed record ParseIssue(string File, long Line, string Reason)
{
    /// <summary>As printed on stderr: a file name or a reason may quote the log, so controls are escaped.</summary>
    public override string ToString() => Alerts.Output.TerminalText.Escape($"{File}:{Line}: {Reason}");
}
