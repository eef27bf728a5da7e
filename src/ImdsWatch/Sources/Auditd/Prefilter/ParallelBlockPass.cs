using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using ImdsWatch.Indicators;
using ImdsWatch.Sources.Input;
using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// Pass one over a plain file on every core: the file is cut into fixed-size blocks, each worker reads the next
/// block with its own positional read and classifies the lines that start in it, and the caller receives the
/// blocks' summaries strictly in file order. Memory stays flat: a few blocks are in flight, whatever the size.
/// </summary>
public sealed class ParallelBlockPass(ReferenceCandidates candidates, int workers = 0, int blockSize = ParallelBlockPass.DefaultBlockSize)
{
    public const int DefaultBlockSize = 512 * 1024; // the copy of a block stays in the core's L2 (1 MB on the VM measured) while it is classified
    private const int Overhang = 16 * 1024; // enough to finish the last line almost always; longer ones read on

    private readonly int _workers = WorkerCount(workers);

    /// <summary>Where the workers' block buffers come from and go back to, kept between the files of a scan (null: new each pass).</summary>
    internal ArrayShelf<byte>? Buffers { get; init; }

    /// <summary>
    /// Where block summaries come from and go back to, kept between the files of a set (null: new for this pass). Each
    /// grows its list of runs to a block's worth (~150 KB, large-object heap, ~450 KB with the lists it outgrew): made
    /// anew for every 8 MB file of a rotated set, 12 a file, they came to ~350 MB on 63 files, several times the scan's
    /// no-GC budget (ScanHeap); reused, those 63 files take 0.80 s of CPU instead of 0.93 s.
    /// </summary>
    internal System.Collections.Concurrent.ConcurrentBag<BlockSummary>? Summaries { get; init; }

    /// <summary>Threads kept between the files of a scan (null: a team of this pass's own, ended with it).</summary>
    internal BlockPassTeam? Team { get; init; }

    /// <summary>Called by a worker with each block's index after classifying it (tests make a worker fail with it).</summary>
    internal Action<int>? Classified { get; init; }

    /// <summary>The threads a pass uses when asked for <paramref name="requested"/> (0: one per core, up to 8).</summary>
    public static int WorkerCount(int requested) => requested > 0 ? requested : Math.Clamp(Environment.ProcessorCount, 1, 8);

    /// <summary>Reads [<paramref name="start"/>, <paramref name="end"/>) of the file, calling <paramref name="onBlock"/> in order on this thread.</summary>
    public void Run(SafeFileHandle file, long start, long end, Action<BlockSummary> onBlock, CancellationToken cancellation = default)
    {
        var blocks = end <= start ? 0 : (int)((end - start + blockSize - 1) / blockSize);
        if (blocks == 0)
            return;
        var slots = _workers * 6; // blocks in flight: workers run ahead and wait (a context switch each time) less often
        var results = new BlockSummary?[slots];
        var ready = Enumerable.Range(0, slots).Select(_ => new SemaphoreSlim(0)).ToArray();
        var free = new SemaphoreSlim(slots);
        var pool = Summaries ?? [];
        var next = -1;
        Exception? failure = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);

        // Every wait below is on `stop`: a worker that fails cancels it, so that the reader waiting for that
        // worker's block and the workers waiting for a free slot all wake, and the failure is rethrown here.
        void Fail(Exception e)
        {
            Interlocked.CompareExchange(ref failure, e, null);
            stop.Cancel();
        }

        void Work()
        {
            var buffer = Buffers?.Take(blockSize + Overhang + 1) ?? new byte[blockSize + Overhang + 1];
            try
            {
                var classifier = new AuditBlockClassifier(candidates);
                while (!stop.IsCancellationRequested)
                {
                    free.Wait(stop.Token);
                    var index = Interlocked.Increment(ref next);
                    if (index >= blocks)
                    {
                        free.Release();
                        return;
                    }
                    var summary = pool.TryTake(out var s) ? s : new BlockSummary();
                    summary.Reset(index);
                    try
                    {
                        ReadBlock(file, start, end, index, ref buffer, classifier, summary);
                        Classified?.Invoke(index);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
                    {
                        Fail(e);
                        return;
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Fail(new PassOneFailure(start + ((long)index * blockSize), e));
                        return;
                    }
                    results[index % slots] = summary;
                    ready[index % slots].Release();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Fail(e);
            }
            finally
            {
                Buffers?.Put(buffer);
            }
        }

        // Threads of their own, not the pool's: a worker blocks while its slots are full, and work the pool runs meanwhile
        // (serializing alerts that stream out during the scan, Parallel.For) would wait for the pool to add a thread, 0.5 s.
        // A pass given no team has one of its own.
        using var ownTeam = Team is null ? new BlockPassTeam(_workers) : null;
        var team = Team ?? ownTeam!;
        team.Start(Work, Math.Min(_workers, blocks));
        try
        {
            for (var index = 0; index < blocks; index++)
            {
                ready[index % slots].Wait(stop.Token);
                var summary = results[index % slots]!;
                results[index % slots] = null;
                onBlock(summary);
                pool.Add(summary);
                free.Release();
            }
        }
        catch (OperationCanceledException) when (failure is not null)
        {
        }
        finally
        {
            stop.Cancel();
            team.Wait();
            foreach (var semaphore in ready)
                semaphore.Dispose();
            free.Dispose();
        }
        if (failure is not null)
            ExceptionDispatchInfo.Throw(failure);
        cancellation.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// A block owns the lines that start inside it: it skips the partial line it begins in (read from one byte
    /// before, to know) and reads past its end to finish its last line.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadBlock(SafeFileHandle file, long start, long end, int index, ref byte[] buffer, AuditBlockClassifier classifier, BlockSummary summary)
    {
        var blockStart = start + (long)index * blockSize;
        var blockEnd = Math.Min(end, blockStart + blockSize);
        var readFrom = index == 0 ? blockStart : blockStart - 1;
        var requested = (int)Math.Min(buffer.Length, end - readFrom);
        var length = PositionalRead.Fill(file, buffer.AsSpan(0, requested), readFrom);
        if (length < requested)
        {
            // The file was cut short after its length was taken: read what is there.
            end = readFrom + length;
            if (end <= blockStart)
                return;
            blockEnd = Math.Min(blockEnd, end);
        }
        summary.End = blockEnd;
        var ownedUpTo = (int)(blockEnd - readFrom); // line starts before this index are ours
        int first;
        if (index == 0)
        {
            first = 0;
        }
        else
        {
            var nl = buffer.AsSpan(0, ownedUpTo - 1).IndexOf((byte)'\n');
            if (nl < 0)
                return; // the block lies inside one line, which an earlier block owns
            first = nl + 1;
        }

        // The last line we own ends at the first newline at or after blockEnd - 1.
        var searchFrom = ownedUpTo - 1;
        var lastStart = first + buffer.AsSpan(first, ownedUpTo - first).LastIndexOf((byte)'\n') + 1;
        int last;
        while (true)
        {
            var nl = searchFrom < length ? buffer.AsSpan(searchFrom, length - searchFrom).IndexOf((byte)'\n') : -1;
            if (nl >= 0)
            {
                last = searchFrom + nl + 1;
                break;
            }
            if (readFrom + length >= end)
            {
                last = length; // the file's last line has no newline
                break;
            }
            if (length - lastStart >= LineReader.MaxLineBytes)
            {
                // A line over the limit: read the lines before it, report it, and let the blocks after skip the rest.
                classifier.Classify(buffer.AsSpan(first, lastStart - first), readFrom + first, summary);
                summary.Issues.Add((summary.Lines, LineReader.LongLineIssue));
                summary.Lines++;
                summary.SkippedLongLines++;
                return;
            }
            searchFrom = length;
            if (length == buffer.Length)
                Array.Resize(ref buffer, buffer.Length * 2);
            var more = PositionalRead.Fill(file, buffer.AsSpan(length, (int)Math.Min(buffer.Length - length, end - readFrom - length)), readFrom + length);
            if (more == 0)
            {
                last = length; // the file was cut short while we read it: what we have is all there is
                break;
            }
            length += more;
        }
        summary.End = readFrom + last;
        classifier.Classify(buffer.AsSpan(first, last - first), readFrom + first, summary);
    }
}
