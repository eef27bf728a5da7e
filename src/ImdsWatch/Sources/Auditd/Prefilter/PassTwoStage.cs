using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// What pass two is told, in file order: a run to parse or only to count, or a bad line pass one found. Issues go
/// the same way as runs so that they keep their place among the issues detection reports.
/// </summary>
internal struct PassTwoItem
{
    public long Offset;
    public long Line;
    public ulong Serial;
    public long Milliseconds;
    public string? Node;
    /// <summary>The file the run or bad line is in (<see cref="Offset"/> is in that file).</summary>
    public ScanFile? File;
    /// <summary>Set for a bad line of pass one; the other fields but <see cref="Line"/> are then unused.</summary>
    public string? Issue;
    public int Length;
    public int Records;
    public bool Keep;
}

/// <summary>
/// Pass two on a thread of its own: the selector hands its decisions over in batches, so that it can go on with
/// the next blocks while the runs it has decided are parsed, assembled and detected — the two would otherwise
/// share one core while the other waits. Items are consumed strictly in the order they were added, so the result
/// is the one a single thread gives. With <c>threaded: false</c> every batch is consumed on the caller's thread.
/// </summary>
internal sealed class PassTwoStage : IDisposable
{
    public delegate void Consumer(in PassTwoItem item);

    // 224 KB a batch, a hand-over every ~2 blocks: on a small VM every wake-up of the other thread is a context switch
    internal const int BatchSize = 4096;
    private const int BatchesInFlight = 8;

    private readonly Consumer _consume;
    private readonly BlockingCollection<PassTwoItem[]>? _full;
    private readonly ConcurrentBag<PassTwoItem[]> _free = [];
    private readonly Thread? _thread;
    private readonly CancellationTokenSource _stop = new();
    private readonly ArrayShelf<PassTwoItem>? _shelf;
    private PassTwoItem[] _batch;
    private int _count;
    private ExceptionDispatchInfo? _failure;
    private bool _completed;

    /// <param name="consume">Called for every item, in order.</param>
    /// <param name="threaded">Consume on a thread of its own.</param>
    /// <param name="shelf">Where batches come from and go back to when the stage is disposed (kept between the files of a scan).</param>
    public PassTwoStage(Consumer consume, bool threaded, ArrayShelf<PassTwoItem>? shelf = null)
    {
        _consume = consume;
        _shelf = shelf;
        _batch = NewBatch();
        if (!threaded)
            return;
        _full = new BlockingCollection<PassTwoItem[]>(BatchesInFlight);
        // A thread of its own, not the pool's: pass one's workers hold the pool's threads, and a third blocked pool
        // thread would wait for the pool to grow.
        _thread = new Thread(Consume) { IsBackground = true, Name = "imdswatch pass two" };
        _thread.Start();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(in PassTwoItem item)
    {
        _batch[_count++] = item;
        if (_count == BatchSize)
            HandOver();
    }

    /// <summary>Consumes everything added and waits for it; rethrows what the consumer threw.</summary>
    public void Complete()
    {
        if (_completed)
            return;
        _completed = true;
        if (_count > 0)
            HandOver();
        if (_full is not null)
        {
            _full.CompleteAdding();
            _thread!.Join();
        }
        _failure?.Throw();
    }

    public void Dispose()
    {
        if (_full is not null && !_completed)
        {
            // Abandoned (the scan failed or was cancelled): stop the consumer without waiting for its backlog.
            _completed = true;
            _stop.Cancel();
            _full.CompleteAdding();
            _thread!.Join();
        }
        _full?.Dispose();
        _stop.Dispose();
        if (_shelf is null || (_thread is not null && _thread.IsAlive))
            return;
        // Back to the shelf, holding no strings: the free batches were cleared as they were consumed.
        Array.Clear(_batch, 0, _thread is null ? _batch.Length : _count);
        _shelf.Put(_batch);
        while (_free.TryTake(out var free))
            _shelf.Put(free);
    }

    private PassTwoItem[] NewBatch() => _shelf?.Take(BatchSize) ?? new PassTwoItem[BatchSize];

    private void HandOver()
    {
        var batch = _batch;
        var count = _count;
        _count = 0;
        if (_full is null)
        {
            ConsumeBatch(batch, count);
            return;
        }
        _failure?.Throw();
        if (count < BatchSize)
            Array.Resize(ref batch, count); // only the last batch is short
        try
        {
            _full.Add(batch, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            _failure?.Throw();
            throw;
        }
        _batch = _free.TryTake(out var free) ? free : NewBatch();
    }

    private void Consume()
    {
        try
        {
            foreach (var batch in _full!.GetConsumingEnumerable(_stop.Token))
            {
                ConsumeBatch(batch, batch.Length);
                if (batch.Length == BatchSize)
                {
                    Array.Clear(batch); // drop the strings it holds
                    _free.Add(batch);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // any failure of detection is the scan's: it is rethrown on the caller's thread
        catch (Exception e)
#pragma warning restore CA1031
        {
            _failure = ExceptionDispatchInfo.Capture(e);
            _stop.Cancel(); // wakes a producer waiting for room
        }
    }

    private void ConsumeBatch(PassTwoItem[] batch, int count)
    {
        for (var i = 0; i < count; i++)
            _consume(in batch[i]);
    }
}
