namespace ImdsWatch.Sources;

/// <summary>What a source read of one input: the counts of the summary and where a checkpoint can resume.</summary>
public sealed class SourceStats
{
    public long Lines { get; set; }

    /// <summary>Why the input could not be read to its end (damaged or truncated gzip, an I/O error), with the line reached.</summary>
    public string? Unreadable { get; set; }
    /// <summary>What a user should know of how the input was read (a .gz without room to unpack it, read the slow way).</summary>
    public string? Note { get; set; }

    public long Records { get; set; }
    public long Events { get; set; }
    public long Bytes { get; set; }

    /// <summary>Audit records the prefilter let through to the full parser (all of them without it).</summary>
    public long RecordsParsed { get; set; }

    /// <summary>
    /// Successful execs and outbound connects in events the prefilter did not parse: detection never saw them, but
    /// they count in its summary as they would without the prefilter.
    /// </summary>
    public long SkippedExecs { get; set; }

    public long SkippedConnects { get; set; }

    /// <summary>Audit records that came after their event was complete.</summary>
    public long LateRecords { get; set; }

    /// <summary>Bytes up to the end of the last complete line, from where the input started.</summary>
    public long BytesToLastNewline { get; set; }

    /// <summary>The number of the last complete line.</summary>
    public long LastLine { get; set; }

    /// <summary>Time of the newest record, in Unix milliseconds (0 when none had one).</summary>
    public long NewestMilliseconds { get; set; }

    public void SawTime(long milliseconds)
    {
        if (milliseconds > NewestMilliseconds)
            NewestMilliseconds = milliseconds;
    }
}
