using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using ImdsWatch.Events;
using ImdsWatch.Sources;

namespace ImdsWatch.Pipeline;

/// <summary>
/// The rules on a thread of their own, for an input the full parser reads (gzip, <c>--no-prefilter</c>, syslog,
/// ECS, access logs): the source reads, decompresses, parses, assembles and normalizes on the calling thread while
/// the rules see the events on the other core. One consumer takes the source's events and issues in the order the
/// source gave them, so detection, its state and the issue list are what they are on one thread. Bounded: the
/// source waits once <see cref="Capacity"/> batches are queued; batches are reused.
/// <para>
/// A failure on either side ends both: a rule that throws fails the scan (naming the event's file and line) at the
/// source's next hand-over, and a source that stops early (cancellation, a bug) lets the thread go on disposal.
/// </para>
/// </summary>
internal sealed class EventHandoff : IDisposable
{
    /// <summary>Inputs from this size on are worth a thread (a thread and its queue cost ~0.1 ms; a 2 MB log ~20 ms).</summary>
    public const long WorthFrom = 2L << 20;

    private const int BatchSize = 2048;
    private const int Capacity = 4;

    private readonly string _file;
    private readonly Action<IObservedEvent> _dispatch;
    private readonly Action<long, string> _issue;
    private readonly BlockingCollection<Batch> _queued = new(Capacity);
    private readonly ConcurrentQueue<Batch> _free = new();
    private readonly CancellationTokenSource _failed = new();
    private readonly Thread _thread;
    private Batch _batch = new();
    private ExceptionDispatchInfo? _failure;
    private volatile bool _abandoned;
    private bool _completed;

    public EventHandoff(string file, Action<IObservedEvent> dispatch, Action<long, string> issue)
    {
        _file = file;
        _dispatch = dispatch;
        _issue = issue;
        _thread = new Thread(Consume) { IsBackground = true, Name = "imdswatch rules" };
        _thread.Start();
    }

    /// <summary>True when the rules are worth a thread of their own for this source and input.</summary>
    public static bool IsWorthIt(IEventSource source, long? inputBytes, long from) =>
        source is LineSource && inputBytes >= from && Environment.ProcessorCount > 1;

    /// <summary>An event for the rules (the source's thread).</summary>
    public void Emit(IObservedEvent e) => Add(new Item(e, 0, null));

    /// <summary>An issue, kept in its place among the events (the source's thread).</summary>
    public void Issue(long line, string reason) => Add(new Item(null, line, reason));

    /// <summary>Waits until the rules have seen everything handed over; a rule's failure is thrown here.</summary>
    public void Complete()
    {
        if (_completed)
            return;
        _completed = true;
        if (_batch.Count > 0)
            Send();
        _queued.CompleteAdding();
        _thread.Join();
        _failure?.Throw();
    }

    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            _abandoned = true; // the source failed: the rules need not see the rest
            _queued.CompleteAdding();
            _thread.Join();
        }
        _queued.Dispose();
        _failed.Dispose();
    }

    private void Add(Item item)
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
                _queued.Add(_batch, _failed.Token);
        }
        catch (OperationCanceledException)
        {
            // the rules' thread failed while the queue was full: its failure is thrown below
        }
        _failure?.Throw();
        _batch = _free.TryDequeue(out var free) ? free : new Batch();
    }

    private void Consume()
    {
        try
        {
            foreach (var batch in _queued.GetConsumingEnumerable())
            {
                if (!_abandoned)
                    Dispatch(batch);
                Array.Clear(batch.Items, 0, batch.Count);
                batch.Count = 0;
                _free.Enqueue(batch);
            }
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
            _failed.Cancel(); // wakes the source if it waits on a full queue
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // the rules' loop: optimized from the first batch, as the parser's
    private void Dispatch(Batch batch)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var item = batch.Items[i];
            if (item.Event is not { } e)
            {
                _issue(item.Line, item.Reason!);
                continue;
            }
            try
            {
                _dispatch(e);
            }
            catch (Exception x) when (ScanFailedException.At(_file, e.Evidence.Line, x) is { } failed)
            {
                throw failed; // a bug in a rule: end the run naming the event's place
            }
        }
    }

    private readonly record struct Item(IObservedEvent? Event, long Line, string? Reason);

    private sealed class Batch
    {
        public Item[] Items { get; } = new Item[BatchSize];

        public int Count { get; set; }
    }
}
