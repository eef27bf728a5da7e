using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Complete audit events normalized on a thread of their own, for a large input the full parser reads in one go: the
/// calling thread reads, parses and assembles while this one decodes the fields of the exec and connect events and
/// hands the normalized events on (to the rules, or to the rules' own thread). Events, and the issues of unreadable
/// lines, go over in the order the caller gave them, and only this thread emits, so what follows sees them as from
/// one thread. Bounded: the caller waits once <see cref="Capacity"/> batches are queued.
/// <para>
/// Records stay in the caller's arena: lent while their event is over here (their bodies are not moved), released
/// by the caller, and their events recycled, once the batch has come back. A failure here (a bug) ends the scan at
/// the caller's next hand-over, naming the event's line; a caller that stops early lets the thread go on disposal.
/// </para>
/// </summary>
internal sealed class NormalizingThread : IDisposable
{
    /// <summary>Inputs from this size on are worth the thread (as the rules' thread, <c>EventHandoff.WorthFrom</c>).</summary>
    public const long WorthFrom = 2L << 20;

    private const int BatchSize = 512;
    private const int Capacity = 4;

    private readonly AuditEventNormalizer _normalizer;
    private readonly SourceContext _context;
    private readonly AuditRecordArena _arena;
    private readonly Action<AuditEvent> _recycle;
    private readonly Action<Events.HostEvent> _emit;
    private readonly BlockingCollection<Batch> _queued = new(Capacity);
    private readonly BlockingCollection<Batch> _returned = [];
    private readonly Stack<Batch> _free = new();
    private readonly CancellationTokenSource _failed = new();
    private readonly Thread _thread;
    private Batch _batch = new();
    private int _outstanding;
    private ExceptionDispatchInfo? _failure;
    private volatile bool _abandoned;
    private bool _completed;

    /// <param name="recycle">Called on the caller's thread with each event done with (its records released).</param>
    public NormalizingThread(AuditEventNormalizer normalizer, SourceContext context, AuditRecordArena arena, Action<AuditEvent> recycle)
    {
        _normalizer = normalizer;
        _context = context;
        _arena = arena;
        _recycle = recycle;
        _emit = context.Emit;
        _thread = new Thread(Consume) { IsBackground = true, Name = "imdswatch normalize" };
        _thread.Start();
    }

    /// <summary>True when an input of this size is worth the thread on this machine.</summary>
    public static bool IsWorthIt(long? inputBytes, long from) => inputBytes >= from && Environment.ProcessorCount > 1;

    /// <summary>A complete event to normalize (the caller's thread); its records are lent until it comes back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(AuditEvent e)
    {
        foreach (var record in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(e.Records))
            AuditRecordArena.Lend(record);
        Put(new Item(e, 0, null));
    }

    /// <summary>An issue, kept in its place among the events (the caller's thread).</summary>
    public void Issue(long line, string reason) => Put(new Item(null, line, reason));

    /// <summary>Waits until everything handed over has been normalized and emitted, and takes the batches back.</summary>
    public void Drain()
    {
        if (_batch.Count > 0)
            Send();
        while (_outstanding > 0)
        {
            Batch back;
            try
            {
                back = _returned.Take(_failed.Token);
            }
            catch (OperationCanceledException)
            {
                _failure!.Throw();
                throw;
            }
            Reclaim(back);
        }
        _failure?.Throw();
    }

    /// <summary>Drains, and ends the thread.</summary>
    public void Complete()
    {
        if (_completed)
            return;
        Drain();
        _completed = true;
        _queued.CompleteAdding();
        _thread.Join();
        _failure?.Throw();
    }

    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            _abandoned = true; // the caller failed: what is queued need not be normalized
            _queued.CompleteAdding();
            _thread.Join();
        }
        _queued.Dispose();
        _returned.Dispose();
        _failed.Dispose();
    }

    private void Put(Item item)
    {
        _batch.Items[_batch.Count++] = item;
        if (_batch.Count == BatchSize)
            Send();
    }

    private void Send()
    {
        try
        {
            if (!_failed.IsCancellationRequested)
            {
                _queued.Add(_batch, _failed.Token);
                _outstanding++;
            }
        }
        catch (OperationCanceledException)
        {
            // the thread failed while the queue was full: its failure is thrown below
        }
        _failure?.Throw();
        while (_returned.TryTake(out var back))
            Reclaim(back);
        _batch = _free.Count > 0 ? _free.Pop() : new Batch();
    }

    /// <summary>A batch back from the thread: its records released, its events recycled, itself kept for reuse.</summary>
    private void Reclaim(Batch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch.Items[i].Event is not { } e)
                continue;
            foreach (var record in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(e.Records))
                _arena.Release(record);
            _recycle(e);
        }
        Array.Clear(batch.Items, 0, batch.Count);
        batch.Count = 0;
        _outstanding--;
        _free.Push(batch);
    }

    private void Consume()
    {
        try
        {
            foreach (var batch in _queued.GetConsumingEnumerable())
            {
                if (!_abandoned)
                    Normalize(batch);
                _returned.Add(batch);
            }
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
            _failed.Cancel(); // wakes the caller if it waits on a full queue or for a batch to come back
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Normalize(Batch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var item = batch.Items[i];
            if (item.Event is not { } e)
            {
                _context.Issue(item.Line, item.Reason!);
                continue;
            }
            try
            {
                _normalizer.Normalize(e, _emit);
            }
            catch (Exception x) when (ScanFailedException.At(_context.Name, e.Records.Count > 0 ? e.Records[0].Line : 0, x) is { } failed)
            {
                throw failed; // a bug in the normalizer: end the run naming the event's place
            }
        }
    }

    private readonly record struct Item(AuditEvent? Event, long Line, string? Reason);

    private sealed class Batch
    {
        public Item[] Items { get; } = new Item[BatchSize];

        public int Count { get; set; }
    }
}
