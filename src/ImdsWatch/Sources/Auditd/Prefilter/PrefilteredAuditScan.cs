using System.Runtime.CompilerServices;
using ImdsWatch.Indicators;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// A plain audit log read the fast way: pass one classifies blocks on every core (<see cref="ParallelBlockPass"/>),
/// the <see cref="RunSelector"/> decides which events the full parser must see, and pass two parses just those
/// runs' bytes — the rest only advance the assembler's clock — so detection sees what a full parse would show it.
/// <para>
/// Consecutive files of a scan (auditd's rotated logs, oldest first) are read as one: one selector and one pass two
/// for the set, so that the many small files cost what the same bytes in one file cost, and a hot event's
/// ancestors are kept also when their execs are in the file before. At each boundary the selector starts a new
/// file (<see cref="RunSelector.NextFile"/>) and pass two's assembler starts over (<see cref="AuditEventAssembler.Restart"/>),
/// as the full parser, which reads each file with an assembler of its own, does.
/// </para>
/// </summary>
public sealed class PrefilteredAuditScan(ReferenceCandidates candidates, AuditRecordParser parser, AuditEventAssembler assembler)
{
    private readonly Dictionary<ulong, string> _nodes = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<BlockSummary> _summaries = []; // pass one's, reused file after file
    private ulong _lastNodeHash;
    private string? _lastNodeName;

    public int Workers { get; init; }

    public int BlockSize { get; init; } = ParallelBlockPass.DefaultBlockSize;

    /// <summary>Pass one's block buffers and pass two's batches, kept between the files of a scan (null: new for this file).</summary>
    internal ArrayShelf<byte>? BlockBuffers { get; init; }

    internal ArrayShelf<PassTwoItem>? PassTwoBatches { get; init; }

    /// <summary>The selector's tables, kept between the files of a scan (null: new for this file).</summary>
    public TableShelf? SelectorTables { get; init; }

    /// <summary>Where kept records' bodies go (the assembler's consumer releases them); arrays of their own without one.</summary>
    internal AuditRecordArena? Arena { get; init; }

    /// <summary>Called after each block with the file and the bytes of it read so far (a set of files).</summary>
    internal Action<ScanFile, long>? FileProgress { get; init; }

    /// <summary>
    /// Consecutive files as one scan, in the order given (taken one at a time, so that a file can be made ready just
    /// before it is read); each file's counts are on it. <paramref name="expectedBytes"/> sizes the selector's tables
    /// and decides whether pass two gets a thread. The assembler is flushed at the end.
    /// </summary>
    internal void Scan(IEnumerable<ScanFile> files, long expectedBytes, CancellationToken cancellation = default)
    {
        var read = new List<ScanFile>(); // the files pass one has begun, in order (the selector's side)
        var emitting = 0; // the file of the run the selector decides now
        ScanFile? current = null; // the file of the run pass two reads now (pass two's side)
        long lateBefore = 0;
        long joiningBefore = 0;
        long skippedEvents = 0;
        long skippedExecs = 0;
        long skippedConnects = 0;
        RunSelector? selector = null;
        using var team = new BlockPassTeam(ParallelBlockPass.WorkerCount(Workers));

        using var passTwo = new PassTwoStage((in PassTwoItem item) =>
        {
            var file = item.File!;
            try
            {
                if (item.Issue is not null)
                {
                    file.Report(item.Line, item.Issue);
                    return;
                }
                if (!ReferenceEquals(file, current))
                    StartFile(file);
                if (item.Keep)
                    Parse(file.Kept!.Bytes(item.Offset, item.Length), item.Line, file);
                else
                    assembler.ObserveRun(item.Node, item.Serial, item.Milliseconds, item.Records);
            }
            catch (Exception e) when (ScanFailedException.At(file.Source.Name, item.Line, e) is ScanFailedException failed)
            {
                throw failed;
            }
        }, threaded: expectedBytes > BlockSize, PassTwoBatches);
        using (selector = new RunSelector([MethodImpl(MethodImplOptions.AggressiveOptimization)] (run, line, keep) =>
        {
            while (emitting + 1 < read.Count && read[emitting + 1].Base <= run.Offset)
                emitting++;
            var file = read[emitting];
            CountSkipped(file);
            passTwo.Add(new PassTwoItem
            {
                Offset = run.Offset - file.Base,
                Length = run.Length,
                Line = line,
                Records = run.Records,
                Serial = run.Serial,
                Milliseconds = run.Milliseconds,
                Node = keep ? null : NodeName(run.Node),
                Keep = keep,
                File = file,
            });
        }, RunSelector.ExpectedRuns(expectedBytes), SelectorTables))
        {
            long next = 0;
            foreach (var file in files)
            {
                if (read.Count > 0)
                    selector.NextFile();
                file.Base = next;
                file.Kept = new KeptRunReader(file.Handle);
                read.Add(file);
                next += PassOne(file, selector, passTwo, team, cancellation);
            }
            selector.Finish();
            passTwo.Complete();
        }
        CountSkipped(read.Count > 0 ? read[^1] : null);
        assembler.Flush();
        if (current is not null)
            EndFile(current);

        // Pass two's side: the assembler starts over at a new file, as the full parser's assembler of that file would.
        void StartFile(ScanFile file)
        {
            if (current is not null)
            {
                assembler.Restart();
                EndFile(current);
            }
            current = file;
        }

        void EndFile(ScanFile file)
        {
            file.LateRecords = assembler.LateRecords - lateBefore;
            file.ObservedJoiningOpen = assembler.ObservedJoiningOpen - joiningBefore;
            lateBefore = assembler.LateRecords;
            joiningBefore = assembler.ObservedJoiningOpen;
        }

        // The selector counts a skipped event as it decides it, just before it emits the event's first run: the
        // counts since the last run are that run's file's.
        void CountSkipped(ScanFile? file)
        {
            if (file is null || selector is null)
                return;
            file.SkippedEvents += selector.SkippedEvents - skippedEvents;
            file.SkippedExecs += selector.SkippedExecs - skippedExecs;
            file.SkippedConnects += selector.SkippedConnects - skippedConnects;
            skippedEvents = selector.SkippedEvents;
            skippedExecs = selector.SkippedExecs;
            skippedConnects = selector.SkippedConnects;
        }
    }

    /// <summary>Pass one over one file of the scan; returns the length it read to (where the next file's offsets start).</summary>
    private long PassOne(ScanFile file, RunSelector selector, PassTwoStage passTwo, BlockPassTeam team, CancellationToken cancellation)
    {
        var source = file.Source;
        var end = RandomAccess.GetLength(file.Handle);
        var start = Math.Min(source.Offset, end);
        var firstLine = source.FirstLineNumber;
        file.LineNumberAtLastNewline = firstLine - 1;
        try
        {
            new ParallelBlockPass(candidates, Workers, BlockSizeFor(end - start)) { Buffers = BlockBuffers, Summaries = _summaries, Team = team }
                .Run(file.Handle, start, end, OnBlock, cancellation);
        }
        catch (PassOneFailure failure)
        {
            throw new ScanFailedException(source.Name, FailingLine(source, failure.BlockOffset), failure.InnerException!);
        }
        file.BytesRead = end - start;
        return end;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void OnBlock(BlockSummary block)
        {
            foreach (var (hash, name) in block.NewNodes)
                _nodes.TryAdd(hash, name);
            foreach (var (line, reason) in block.Issues)
                passTwo.Add(new PassTwoItem { Line = firstLine + line, Issue = reason, File = file });
            foreach (var run in block.Runs)
            {
                var shifted = run;
                shifted.Offset += file.Base;
                selector.Add(shifted, firstLine + run.FirstLine);
            }
            if (block.LastNewlineLine >= 0)
            {
                file.BytesConsumedToLastNewline = block.EndOfLastNewline - start;
                file.LineNumberAtLastNewline = firstLine + block.LastNewlineLine;
            }
            firstLine += block.Lines;
            file.Lines += block.Lines - block.SkippedLongLines;
            file.Records += block.Records;
            file.NewestMilliseconds = Math.Max(file.NewestMilliseconds, block.NewestMilliseconds);
            file.BytesRead = block.End - start;
            FileProgress?.Invoke(file, file.BytesRead);
        }
    }

    /// <summary>
    /// The line a worker of pass one failed on: the first line from the failed block on that the classifier cannot
    /// take on its own (or the block's first line). Only after a bug, so a second read of the file is fine.
    /// </summary>
    private long FailingLine(InputSource source, long blockOffset)
    {
        using var reader = new LineReader(source.Open(), firstLineNumber: source.FirstLineNumber);
        var classifier = new AuditBlockClassifier(candidates);
        long firstOfBlock = -1;
        var next = source.Offset;
        while (reader.TryReadLine(out var line))
        {
            var lineStart = next;
            next = source.Offset + reader.BytesConsumedToLastNewline;
            if (lineStart < blockOffset)
                continue; // an earlier block's line
            if (firstOfBlock < 0)
                firstOfBlock = reader.LineNumber;
            try
            {
                classifier.Classify(line, lineStart, new BlockSummary());
            }
            catch (Exception)
            {
                return reader.LineNumber;
            }
        }
        return Math.Max(firstOfBlock, source.FirstLineNumber);
    }

    /// <summary>Small files are cut finer, so that every core gets a share of them too.</summary>
    private int BlockSizeFor(long bytes)
    {
        var share = (bytes / (2 * ParallelBlockPass.WorkerCount(Workers))) + 1;
        return (int)Math.Min(BlockSize, Math.Max(MinimumBlockSize, share));
    }

    private const int MinimumBlockSize = 256 * 1024;

    private string? NodeName(ulong hash)
    {
        if (hash == 0)
            return null;
        if (hash != _lastNodeHash)
        {
            _lastNodeHash = hash;
            _lastNodeName = _nodes[hash];
        }
        return _lastNodeName;
    }

    private void Parse(ReadOnlySpan<byte> bytes, long lineNumber, ScanFile file)
    {
        foreach (var range in bytes.Split((byte)'\n'))
        {
            var line = bytes[range];
            if (line.Length > 0 && line[^1] == (byte)'\r')
                line = line[..^1];
            if (!line.IsEmpty && line.IndexOfAnyExcept((byte)' ', (byte)'\t') >= 0 && parser.TryParse(line, file.SourceId, lineNumber, Arena, out var record, out _))
            {
                file.RecordsParsed++;
                assembler.Add(record!);
            }
            lineNumber++;
        }
    }
}
