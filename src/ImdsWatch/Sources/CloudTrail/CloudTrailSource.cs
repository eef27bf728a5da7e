using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using ImdsWatch.Events;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// CloudTrail files read on all cores and merged into one stream of calls in time order. Files are taken in
/// delivery order (the time in an S3 object name, AWSLogs/…/CloudTrail/region/YYYY/MM/DD/acct_CloudTrail_region_
/// YYYYMMDDTHHmmZ_…json.gz; otherwise as given); each worker decompresses and parses one file at a time and hands
/// its calls over in small chunks through a bounded queue, so memory does not grow with a file or the day. The
/// merge holds calls back up to <see cref="Horizon"/> (CloudTrail delivers a record within about 15 minutes of
/// the call, so files overlap in time) and releases them oldest first: the rules see one time-ordered stream,
/// the same whatever the number of workers. Callbacks run on the calling thread only.
/// </summary>
public sealed class CloudTrailSource
{
    // Few, large hand-overs: on a busy machine every hand-over between a worker and the merge waits for a time
    // slice (chunks of 512 made a 250 MB day 8x slower under load); 2 x 4,096 calls in flight per file is ~5 MB.
    private const int ChunkSize = 4096;
    private const int ChunksPerFile = 2;
    private const int MaxIssuesPerFile = 1000;

    /// <summary>Threads reading files (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>How late a call may arrive and still be put in its place.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>Calls held back at most; past it the oldest go on early (and are counted if out of order).</summary>
    public int MaxPending { get; init; } = 50_000;

    public delegate void IssueHandler(int sourceId, long line, string reason);

    /// <summary>
    /// Reads every file. A file that cannot be read to its end (an I/O error, a file cut short while read) goes to
    /// <paramref name="onUnreadable"/> with why, after the calls read before the failure, and the other files are
    /// still read; without that callback it ends the read.
    /// </summary>
    public CloudTrailStats Read(IReadOnlyList<(int Id, InputSource Source)> files, Action<ApiCall> onCall, IssueHandler onIssue,
        Action<long, InputSource>? progress = null, Action<int, string>? onUnreadable = null, CancellationToken cancellation = default)
    {
        var ordered = files.Select((f, i) => (f.Id, f.Source, Key: (DeliveryTime(f.Source.Name), i))).OrderBy(f => f.Key).ToList();
        var workers = Math.Clamp(Workers > 0 ? Workers : Environment.ProcessorCount, 1, Math.Max(1, ordered.Count));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var outputs = new BlockingCollection<Chunk>?[ordered.Count];
        var gate = new object();
        using var window = new SemaphoreSlim(workers + 1);
        var next = -1;

        void Work()
        {
            var strings = new StringPool();
            while (!stop.IsCancellationRequested)
            {
                window.Wait(stop.Token); // taken before the index: the merge's next file is always in flight
                var index = Interlocked.Increment(ref next);
                if (index >= ordered.Count)
                {
                    window.Release();
                    return;
                }
                var output = new BlockingCollection<Chunk>(ChunksPerFile);
                lock (gate)
                {
                    outputs[index] = output;
                    Monitor.PulseAll(gate);
                }
                ReadFile(ordered[index].Source, strings, output, stop.Token);
            }
        }

        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Factory.StartNew(Work, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        var merge = new TimeOrderedMerge(onCall, Horizon, MaxPending);
        long bytes = 0, records = 0, unreadable = 0, calls = 0;
        try
        {
            for (var i = 0; i < ordered.Count; i++)
            {
                BlockingCollection<Chunk> output;
                lock (gate)
                {
                    while (outputs[i] is null)
                    {
                        stop.Token.ThrowIfCancellationRequested();
                        Monitor.Wait(gate, 100);
                    }
                    output = outputs[i]!;
                    outputs[i] = null;
                }
                var (id, source, _) = ordered[i];
                foreach (var chunk in output.GetConsumingEnumerable(stop.Token))
                {
                    chunk.Failure?.Throw();
                    if (chunk.Unfinished is { } why)
                    {
                        if (onUnreadable is null)
                            throw new IOException($"{source.Name}: {why}");
                        onUnreadable(id, why);
                    }
                    foreach (var (line, reason) in chunk.Issues)
                        onIssue(id, line, reason);
                    foreach (var call in chunk.Calls)
                        merge.Add(call);
                    calls += chunk.Calls.Count;
                    bytes += chunk.Bytes;
                    records += chunk.Records;
                    unreadable += chunk.Unreadable;
                    progress?.Invoke(bytes, source);
                }
                window.Release();
            }
            merge.Drain();
        }
        finally
        {
            stop.Cancel();
            try
            {
                Task.WaitAll(tasks, CancellationToken.None);
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
            {
                // the workers stopped because the merge did (a failure, or the user's cancellation)
            }
        }
        cancellation.ThrowIfCancellationRequested();
        return new CloudTrailStats { Files = ordered.Count, Bytes = bytes, Records = records, Unreadable = unreadable, Calls = calls, OutOfOrder = merge.OutOfOrder };
    }

    /// <summary>One file, streamed: calls and issues go out in chunks as they are read.</summary>
    private static void ReadFile(InputSource source, StringPool strings, BlockingCollection<Chunk> output, CancellationToken stop)
    {
        var chunk = new Chunk();
        long issues = 0, reportedBytes = 0, reportedRecords = 0, reportedUnreadable = 0;
        CloudTrailReader? reader = null;
        var parser = new CloudTrailRecordParser(source.Name, strings);

        void Flush()
        {
            chunk.Bytes = (reader?.BytesRead ?? 0) - reportedBytes;
            chunk.Records = parser.Records - reportedRecords;
            reportedBytes += chunk.Bytes;
            reportedRecords += chunk.Records;
            chunk.Unreadable = parser.Unreadable - reportedUnreadable;
            reportedUnreadable += chunk.Unreadable;
            output.Add(chunk, stop);
            chunk = new Chunk();
        }

        void Issue(long line, string reason)
        {
            if (++issues <= MaxIssuesPerFile)
                chunk.Issues.Add((line, reason));
            else if (issues == MaxIssuesPerFile + 1)
                chunk.Issues.Add((line, $"more than {MaxIssuesPerFile} issues in this file: the rest are not listed"));
        }

        void Add(ApiCall call)
        {
            chunk.Calls.Add(call);
            if (chunk.Calls.Count >= ChunkSize)
                Flush();
        }

        try
        {
            var stream = source.Open();
            if (stream is GzipEndCheck gzip)
                gzip.ThrowAtEnd = false; // the records read before the cut are parsed first, then the cut is an issue
            reader = new CloudTrailReader(stream);
            reader.ReadAll((value, line, inRecords) => parser.Parse(value, line, Add, Issue, inRecords), (line, reason) => parser.Broken(line, reason, Issue), Issue);
            if (stream is GzipEndCheck { EndedEarly: true })
                Issue(0, GzipEndCheck.EndedEarlyReason);
        }
        catch (InvalidDataException e)
        {
            Issue(0, $"unreadable compressed data after {reader?.BytesRead ?? 0} bytes: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // One damaged input, like a cut log of any other format: what came before it counts, the others are read.
            chunk.Unfinished = $"unreadable after {parser.Records:N0} record(s), {reader?.BytesRead ?? 0:N0} bytes: {e.Message}";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            chunk.Failure = ExceptionDispatchInfo.Capture(e); // a bug: ends the scan, on the merging thread
        }
        finally
        {
            reader?.Dispose();
        }
        try
        {
            Flush();
        }
        finally
        {
            output.CompleteAdding();
        }
    }

    /// <summary>The delivery time in an S3 object name (…_CloudTrail_us-east-1_20261124T1105Z_…), if any.</summary>
    internal static DateTime DeliveryTime(string path)
    {
        var name = Path.GetFileName(path.AsSpan());
        var at = name.IndexOf("_CloudTrail_", StringComparison.Ordinal);
        if (at < 0)
            return DateTime.MinValue;
        var rest = name[(at + 12)..];
        var region = rest.IndexOf('_');
        if (region < 0 || rest.Length < region + 15)
            return DateTime.MinValue;
        return DateTime.TryParseExact(rest.Slice(region + 1, 14), "yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time) ? time : DateTime.MinValue;
    }

    private sealed class Chunk
    {
        public List<ApiCall> Calls { get; } = new(ChunkSize);
        public List<(long Line, string Reason)> Issues { get; } = [];
        public long Bytes { get; set; }
        public long Records { get; set; }
        public long Unreadable { get; set; }
        public ExceptionDispatchInfo? Failure { get; set; }

        /// <summary>Why the file could not be read to its end (the last chunk of the file).</summary>
        public string? Unfinished { get; set; }
    }
}
