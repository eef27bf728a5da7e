using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// A plain audit log read in two passes (<see cref="PrefilteredAuditScan"/>): only the events that can matter are
/// parsed fully; the rest advance the assembler's clock. Detection sees what the full parse would show it.
/// </summary>
public sealed class PrefilteredAuditLogSource(ReferenceCandidates candidates) : IEventSource
{
    /// <summary>Threads for pass one (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Told of every file read the fast way, so that a one-shot scan can set the heap aside.</summary>
    public ScanHeap? Heap { get; init; }

    /// <summary>Block size of pass one (tests make it tiny, so that records and lines straddle blocks).</summary>
    public int BlockSize { get; init; } = ParallelBlockPass.DefaultBlockSize;

    /// <summary>True when the input is a plain file this source can read (gzip and streams are parsed fully).</summary>
    public static bool CanRead(InputSource input) => PrefilteredAuditScan.CanRead(input);

    public void Read(InputSource input, SourceContext context, CancellationToken cancellation)
    {
        Heap?.WillReadFast(Math.Max(0, (input.Length ?? 0) - input.Offset));
        var stream = new AuditEventBuilder(context);
        var fast = new PrefilteredAuditScan(candidates, stream.Parser, stream.Assembler)
        {
            Arena = stream.Arena,
            Workers = Workers,
            BlockSize = BlockSize,
            Progress = context.Progress,
            BlockBuffers = Heap?.BlockBuffers,
            PassTwoBatches = Heap?.PassTwoBatches,
            SelectorTables = Heap?.SelectorTables,
        };
        // Pass one reads up to the length the file had when it began; a file cut short or rewritten meanwhile reads
        // short or mixed. Checked on a handle of its own, taken before and looked at after (same inode: the scan opens by path now).
        using var file = File.OpenHandle(input.Path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var integrity = ReadIntegrity.Take(file);
        fast.Scan(input, context.SourceId, context.Issue, cancellation);
        stream.Flush();
        var stats = context.Stats;
        if (integrity.Check(readTo: null) is { } damage)
            stats.Unreadable = $"unreadable after line {fast.LineNumberAtLastNewline:N0}: {damage}";
        stats.Lines = fast.Lines;
        stats.Records = fast.Records;
        stats.RecordsParsed = fast.RecordsParsed;
        stats.Bytes = fast.BytesRead;
        stats.BytesToLastNewline = fast.BytesConsumedToLastNewline;
        stats.LastLine = fast.LineNumberAtLastNewline;
        stats.SawTime(fast.NewestMilliseconds);
        stats.Events += fast.SkippedEvents - stream.Assembler.ObservedJoiningOpen;
        stats.SkippedExecs = fast.SkippedExecs;
        stats.SkippedConnects = fast.SkippedConnects;
    }
}
