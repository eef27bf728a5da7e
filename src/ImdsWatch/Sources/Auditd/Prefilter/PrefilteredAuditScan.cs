using System.Runtime.CompilerServices;
using ImdsWatch.Indicators;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;
using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// A plain audit log read the fast way: pass one classifies blocks on every core (<see cref="ParallelBlockPass"/>),
/// the <see cref="RunSelector"/> decides which events the full parser must see, and pass two parses just those
/// runs' bytes — the rest only advance the assembler's clock — so detection sees what a full parse would show it.
/// </summary>
public sealed class PrefilteredAuditScan(ReferenceCandidates candidates, AuditRecordParser parser, AuditEventAssembler assembler)
{
    private readonly Dictionary<ulong, string> _nodes = [];
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

    /// <summary>Called after each block with the bytes read so far.</summary>
    public Action<long>? Progress { get; init; }

    public long Lines { get; private set; }
    public long Records { get; private set; }
    public long RecordsParsed { get; private set; }
    public long NewestMilliseconds { get; private set; }
    public long BytesConsumedToLastNewline { get; private set; }
    public long LineNumberAtLastNewline { get; private set; }
    public long BytesRead { get; private set; }

    /// <summary>Events pass two only counted, and of them the execs and outbound connects detection would have counted.</summary>
    public long SkippedEvents { get; private set; }
    public long SkippedExecs { get; private set; }
    public long SkippedConnects { get; private set; }

    /// <summary>True when the source is a plain file this scan can read (gzip and other streams are parsed fully).</summary>
    public static bool CanRead(InputSource source)
    {
        if (source.Path is null)
            return false;
        using var f = File.OpenHandle(source.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> head = stackalloc byte[2];
        return !InputSource.IsGzip(head[..PositionalRead.Fill(f, head, 0)]);
    }

    public void Scan(InputSource source, int sourceId, Action<long, string> report, CancellationToken cancellation = default)
    {
        using var file = File.OpenHandle(source.Path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var end = RandomAccess.GetLength(file);
        var start = Math.Min(source.Offset, end);
        var kept = new KeptRunReader(file);
        var firstLine = source.FirstLineNumber;
        LineNumberAtLastNewline = firstLine - 1;

        var blockSize = BlockSizeFor(end - start);
        using var passTwo = new PassTwoStage((in PassTwoItem item) =>
        {
            try
            {
                if (item.Issue is not null)
                    report(item.Line, item.Issue);
                else if (item.Keep)
                    Parse(kept.Bytes(item.Offset, item.Length), item.Line, sourceId);
                else
                    assembler.ObserveRun(item.Node, item.Serial, item.Milliseconds, item.Records);
            }
            catch (Exception e) when (ScanFailedException.At(source.Name, item.Line, e) is ScanFailedException failed)
            {
                throw failed;
            }
        }, threaded: end - start > blockSize, PassTwoBatches);
        using var selector = new RunSelector([MethodImpl(MethodImplOptions.AggressiveOptimization)] (run, line, keep) => passTwo.Add(new PassTwoItem
        {
            Offset = run.Offset,
            Length = run.Length,
            Line = line,
            Records = run.Records,
            Serial = run.Serial,
            Milliseconds = run.Milliseconds,
            Node = keep ? null : NodeName(run.Node),
            Keep = keep,
        }), RunSelector.ExpectedRuns(end - start), SelectorTables);
        try
        {
            new ParallelBlockPass(candidates, Workers, blockSize) { Buffers = BlockBuffers }.Run(file, start, end, block => OnBlock(block), cancellation);
        }
        catch (PassOneFailure failure)
        {
            throw new ScanFailedException(source.Name, FailingLine(source, failure.BlockOffset), failure.InnerException!);
        }
        selector.Finish();
        passTwo.Complete();
        SkippedEvents = selector.SkippedEvents;
        SkippedExecs = selector.SkippedExecs;
        SkippedConnects = selector.SkippedConnects;
        BytesRead = end - start;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void OnBlock(BlockSummary block)
        {
            foreach (var (hash, name) in block.NewNodes)
                _nodes.TryAdd(hash, name);
            foreach (var (line, reason) in block.Issues)
                passTwo.Report(firstLine + line, reason);
            foreach (var run in block.Runs)
                selector.Add(run, firstLine + run.FirstLine);
            if (block.LastNewlineLine >= 0)
            {
                BytesConsumedToLastNewline = block.EndOfLastNewline - start;
                LineNumberAtLastNewline = firstLine + block.LastNewlineLine;
            }
            firstLine += block.Lines;
            Lines += block.Lines - block.SkippedLongLines;
            Records += block.Records;
            NewestMilliseconds = Math.Max(NewestMilliseconds, block.NewestMilliseconds);
            BytesRead = block.End - start;
            Progress?.Invoke(BytesRead);
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

    private void Parse(ReadOnlySpan<byte> bytes, long lineNumber, int sourceId)
    {
        foreach (var range in bytes.Split((byte)'\n'))
        {
            var line = bytes[range];
            if (line.Length > 0 && line[^1] == (byte)'\r')
                line = line[..^1];
            if (!line.IsEmpty && line.IndexOfAnyExcept((byte)' ', (byte)'\t') >= 0 && parser.TryParse(line, sourceId, lineNumber, Arena, out var record, out _))
            {
                RecordsParsed++;
                assembler.Add(record!);
            }
            lineNumber++;
        }
    }

    /// <summary>The bytes of kept runs, read through a window: runs kept near each other cost one read.</summary>
    private sealed class KeptRunReader(SafeFileHandle file)
    {
        private const int MinimumRead = 16 * 1024;
        private byte[] _window = new byte[MinimumRead];
        private long _windowStart = -1;
        private int _windowLength;

        public ReadOnlySpan<byte> Bytes(long offset, int length)
        {
            if (_windowStart < 0 || offset < _windowStart || offset + length > _windowStart + _windowLength)
            {
                if (_window.Length < length)
                    _window = new byte[Math.Max(length, _window.Length * 2)];
                _windowStart = offset;
                _windowLength = PositionalRead.Fill(file, _window.AsSpan(0, Math.Max(length, MinimumRead)), offset);
            }
            var at = (int)(offset - _windowStart);
            return at >= _windowLength ? default : _window.AsSpan(at, Math.Min(length, _windowLength - at)); // cut short meanwhile
        }
    }
}
