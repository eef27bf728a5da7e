using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Audit logs read in two passes (<see cref="PrefilteredAuditScan"/>): only the events that can matter are parsed
/// fully; the rest advance the assembler's clock. Detection sees what the full parse would show it. A set of files
/// (auditd's rotated logs) is read as one scan; a .gz is unpacked to a temporary file first (<see cref="UnpackedGzip"/>),
/// or, where there is no room for that, read with the full parser.
/// </summary>
public sealed class PrefilteredAuditLogSource(ReferenceCandidates candidates) : IEventSource
{
    /// <summary>Threads for pass one (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Told of every file read the fast way, so that a one-shot scan can set the heap aside.</summary>
    public ScanHeap? Heap { get; init; }

    /// <summary>Block size of pass one (tests make it tiny, so that records and lines straddle blocks).</summary>
    public int BlockSize { get; init; } = ParallelBlockPass.DefaultBlockSize;

    /// <summary>The free bytes of a directory, where a .gz is unpacked (tests make it small; null: the file system's).</summary>
    internal Func<string, long>? FreeSpace { get; init; }

    /// <summary>True when the input is a file this source can read, plain or gzip (standard input is spooled to one).</summary>
    public static bool CanRead(InputSource input) => input.Path is not null;

    public void Read(InputSource input, SourceContext context, CancellationToken cancellation) => Read([input], [context], cancellation);

    /// <summary>
    /// Consecutive audit logs of one scan, oldest first, read as one (<paramref name="contexts"/>: one an input, in
    /// the same order). A .gz without room to unpack is read with the full parser between the files before and after it.
    /// </summary>
    public void Read(IReadOnlyList<InputSource> inputs, IReadOnlyList<SourceContext> contexts, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(contexts);
        var next = 0;
        while (next < inputs.Count)
        {
            next = ReadFast(inputs, contexts, next, out var noRoom, cancellation);
            if (noRoom is null)
                continue;
            var context = contexts[next];
            new AuditLogSource().Read(inputs[next], context, cancellation);
            context.Stats.Note = $"{noRoom}: read with the full parser (slower)";
            next++;
        }
    }

    /// <summary>
    /// The inputs from <paramref name="first"/> on as one scan, up to the end or to a .gz that cannot be unpacked
    /// (its index is returned, with the reason in <paramref name="noRoom"/>).
    /// </summary>
    private int ReadFast(IReadOnlyList<InputSource> inputs, IReadOnlyList<SourceContext> contexts, int first, out string? noRoom, CancellationToken cancellation)
    {
        var byId = new Dictionary<int, SourceContext>();
        for (var i = first; i < inputs.Count; i++)
            byId[contexts[i].SourceId] = contexts[i];
        var stream = new AuditEventBuilder(contexts[first], id => byId[id]);
        var fast = new PrefilteredAuditScan(candidates, stream.Parser, stream.Assembler)
        {
            Arena = stream.Arena,
            Workers = Workers,
            BlockSize = BlockSize,
            FileProgress = (file, read) => byId[file.SourceId].Progress?.Invoke(read),
            BlockBuffers = Heap?.BlockBuffers,
            PassTwoBatches = Heap?.PassTwoBatches,
            SelectorTables = Heap?.SelectorTables,
        };
        var opened = new List<OpenedFile>();
        string? stoppedFor = null;
        try
        {
            long expected = 0;
            for (var i = first; i < inputs.Count; i++)
                expected += Math.Max(0, (inputs[i].Length ?? 0) - inputs[i].Offset);
            fast.Scan(Files(), expected, cancellation);
            foreach (var file in opened)
                Count(file, byId[file.Scanned.SourceId].Stats);
        }
        finally
        {
            foreach (var file in opened)
                file.Dispose();
        }
        noRoom = stoppedFor;
        return first + opened.Count;

        // Taken one at a time as the scan reaches them: a .gz is unpacked just before it is read.
        IEnumerable<ScanFile> Files()
        {
            for (var i = first; i < inputs.Count; i++)
            {
                var input = inputs[i];
                var context = contexts[i];
                var file = OpenedFile.Open(input, context, FreeSpace, out stoppedFor);
                if (file is null)
                    yield break;
                opened.Add(file);
                Heap?.WillReadFast(Math.Max(0, RandomAccess.GetLength(file.Scanned.Handle) - input.Offset));
                yield return file.Scanned;
            }
        }
    }

    private static void Count(OpenedFile file, SourceStats stats)
    {
        var fast = file.Scanned;
        if (file.Damage() is { } damage)
            stats.Unreadable = $"unreadable after line {fast.LineNumberAtLastNewline:N0}: {damage}";
        stats.Lines = fast.Lines;
        stats.Records = fast.Records;
        stats.RecordsParsed = fast.RecordsParsed;
        stats.Bytes = fast.BytesRead;
        stats.BytesToLastNewline = fast.BytesConsumedToLastNewline;
        stats.LastLine = fast.LineNumberAtLastNewline;
        stats.SawTime(fast.NewestMilliseconds);
        stats.Events += fast.SkippedEvents - fast.ObservedJoiningOpen;
        stats.SkippedExecs = fast.SkippedExecs;
        stats.SkippedConnects = fast.SkippedConnects;
        stats.LateRecords += fast.LateRecords;
    }

    /// <summary>A file of the scan: the plain log with its integrity check, or the .gz unpacked.</summary>
    private sealed class OpenedFile : IDisposable
    {
        private readonly IDisposable _owner; // the handle, or the unpacked gzip that owns it
        private readonly ReadIntegrity? _integrity;
        private readonly string? _gzipDamage;

        private OpenedFile(ScanFile scanned, IDisposable owner, ReadIntegrity? integrity, string? gzipDamage)
        {
            Scanned = scanned;
            _owner = owner;
            _integrity = integrity;
            _gzipDamage = gzipDamage;
        }

        public ScanFile Scanned { get; }

        public static OpenedFile? Open(InputSource input, SourceContext context, Func<string, long>? freeSpace, out string? noRoom)
        {
            noRoom = null;
            if (InputSource.IsGzipFile(input.Path!))
            {
                var unpacked = UnpackedGzip.TryUnpack(input.Path!, out noRoom, freeSpace);
                if (unpacked is null)
                    return null;
                return new OpenedFile(new ScanFile(input, context.SourceId, unpacked.Handle, context.Issue), unpacked, null, unpacked.Damage);
            }
            // Pass one reads up to the length the file had when it began; a file cut short or rewritten meanwhile reads
            // short or mixed: checked after, against its length and first bytes now, on the handle the scan reads.
            var handle = File.OpenHandle(input.Path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return new OpenedFile(new ScanFile(input, context.SourceId, handle, context.Issue), handle, ReadIntegrity.Take(handle), null);
        }

        /// <summary>Why the file was not read to its end: damaged gzip, or a plain file cut short or rewritten meanwhile.</summary>
        public string? Damage() => _gzipDamage ?? _integrity?.Check(readTo: null);

        public void Dispose() => _owner.Dispose();
    }
}
