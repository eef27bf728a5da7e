namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>Pass one's result for one block of a file: its runs, its bad lines, and counts. Reused from block to block.</summary>
public sealed class BlockSummary
{
    public int Index { get; set; }
    /// <summary>File offset just past the block's last line (the next block's first line starts there).</summary>
    public long End { get; set; }
    public int Lines { get; set; }
    /// <summary>Lines over <see cref="Sources.Input.LineReader.MaxLineBytes"/>: numbered, reported, not read (as the line reader does).</summary>
    public int SkippedLongLines { get; set; }
    /// <summary>Offset just past the last newline, and the index of the last line that ended with one (-1: none).</summary>
    public long EndOfLastNewline { get; set; }
    public int LastNewlineLine { get; set; } = -1;
    public long Records { get; set; }
    public long NewestMilliseconds { get; set; }
    public List<RecordRun> Runs { get; } = [];
    public List<(int Line, string Reason)> Issues { get; } = [];
    /// <summary>Node names this block's worker met for the first time (hash → name).</summary>
    public List<(ulong Hash, string Name)> NewNodes { get; } = [];

    public void Reset(int index)
    {
        Index = index;
        End = 0;
        Lines = 0;
        SkippedLongLines = 0;
        EndOfLastNewline = 0;
        LastNewlineLine = -1;
        Records = 0;
        NewestMilliseconds = 0;
        Runs.Clear();
        Issues.Clear();
        NewNodes.Clear();
    }
}
