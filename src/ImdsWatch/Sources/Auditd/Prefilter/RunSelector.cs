using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ImdsWatch.Detection;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// Decides, run by run and in file order, which events the full parser must see: events that matter by themselves
/// (<see cref="RunFlags.Hot"/>), events without a SYSCALL (user-space records), and the execs of a hot event's
/// process and of its ancestors that the <see cref="ProcessTracker"/> could hold as their current image at that
/// serial. A run is decided once no later hot event can reach it any more, so the selector holds only a window of
/// runs, whatever the file's size.
/// </summary>
public sealed class RunSelector(Action<RecordRun, long, bool> emit, int expectedRuns = 1 << 17, TableShelf? tables = null) : IDisposable
{
    /// <summary>The ring sizes to start with: enough for the file (runs of ~200 bytes) up to a window's worth; they grow if needed.</summary>
    public static int ExpectedRuns(long bytes) => (int)Math.Clamp(bytes / 200, 1 << 10, 1 << 17);

    private static int PowerOfTwo(int n) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(n, 16));

    /// <summary>How far back the tracker looks (serials).</summary>
    public const long Window = (long)ProcessTracker.DefaultWindow;
    /// <summary>Events this far after a hot event may complete before it and so be seen by it.</summary>
    public const long Forward = 4096;
    /// <summary>How far out of serial order a hot event may arrive.</summary>
    public const long Margin = 4096;
    private const int MaxDepth = 16;
    private const int MaxPending = 1 << 19;
    /// <summary>A step back this far is not disorder but a new count (a reboot, logs joined out of order).</summary>
    private const long SerialReset = Window + Forward + Margin;

    private NativeTable<EventSlot> _events = tables?.Take<EventSlot>(PowerOfTwo(expectedRuns)) ?? new(PowerOfTwo(expectedRuns));
    private long _eventTail;
    private long _eventHead;
    private NativeTable<PendingRun> _runs = tables?.Take<PendingRun>(PowerOfTwo(expectedRuns)) ?? new(PowerOfTwo(expectedRuns));
    private long _runTail;
    private long _runHead;
    private readonly Dictionary<ulong, int> _nodes = [];
    private readonly List<NodeState> _nodeStates = [];
    private readonly ProcessTable _processes = new(expectedRuns, tables);
    private ulong _lastNode;
    private int _lastNodeIndex = -1;
    private long _lastEvent = -1;
    private long _fileStart; // the first event of the file being read: runs join no event before it
    private bool _disposed;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(in RecordRun run, long firstLine)
    {
        var nodeIndex = NodeIndex(run.Node);
        if ((run.Flags & RunFlags.Daemon) != 0)
        {
            AddDaemonRecord(run, firstLine, nodeIndex);
            return;
        }
        var node = _nodeStates[nodeIndex];
        var newestBefore = node.Newest;
        var serial = node.Position(run.Serial, out var jumped);
        if (jumped)
        {
            // A jump of the serials decides every open event at once by distance, but the assembler completes events by
            // records and log time (256, 5 s), and by their exact serial, so it may still add records to them: every
            // undecided event is kept, and the assembler of pass two groups them as a full parse does.
            for (var open = _eventTail; open < _eventHead; open++)
            {
                ref var pending = ref Slot(open);
                if (!pending.Decided)
                    pending.Keep = true;
            }
        }
        long ev;
        if (_lastEvent >= _eventTail && Slot(_lastEvent) is { Decided: false } last && last.NodeIndex == nodeIndex && last.Serial == serial)
            Join(ref Slot(ev = _lastEvent));
        else if (serial <= newestBefore && FindOpen(nodeIndex, serial) is var open and >= 0)
            Join(ref Slot(ev = open));
        else
        {
            ev = NewEvent(nodeIndex, serial, behind: serial <= newestBefore);
            // A serial so far behind that its event, if it was seen, is decided already: the full parser may still
            // hold that event open (no record count or time passed) and add these records to it. Parsed, they go the
            // same way and are counted alike.
            if (newestBefore - serial > Window + Margin)
                Slot(ev).Keep = true;
        }
        _lastEvent = ev;

        ref var e = ref Slot(ev);
        // Two SYSCALL records in one event (a damaged log), one read only in part: which one the full parser's count
        // takes is not this selector's to guess.
        if ((run.Flags & e.Flags & RunFlags.Syscall) != 0 && ((run.Flags | e.Flags) & RunFlags.CallUnread) != 0)
            e.Keep = true;
        e.Flags |= run.Flags;
        if ((run.Flags & RunFlags.Syscall) != 0 && e.Pid == 0)
        {
            // The first SYSCALL with a pid names the process; one whose pid cannot be read still names its parent.
            if ((run.Flags & RunFlags.NoPid) == 0)
                (e.Pid, e.ParentPid) = (run.Pid, run.ParentPid);
            else if (e.ParentPid == 0)
                e.ParentPid = run.ParentPid;
        }
        // Only execs make process images: they alone are chained per process, and kept when a hot event wants them.
        if (!e.Linked && e.Pid != 0 && (e.Flags & RunFlags.Execve) != 0)
        {
            e.Linked = true;
            ref var process = ref _processes.Find(nodeIndex, e.Pid);
            e.PreviousOfProcess = process.Newest;
            process.Newest = ev;
            if (process.Wanted && serial <= process.High)
            {
                e.Wanted = true;
                Want(nodeIndex, e.ParentPid, process.High - Forward, 1); // may move the entry: not used after
            }
        }
        if (IsHot(e.Flags))
        {
            e.Keep = true;
            // An event whose pid cannot be read (hot for that alone) still has its parent looked up by the tracker.
            if (!e.Chained && (e.Pid != 0 || e.ParentPid != 0))
            {
                e.Chained = true;
                Want(nodeIndex, e.Pid, serial, 0);
                Want(nodeIndex, e.ParentPid, serial, 1); // a connect with no exec logged: its own parent
            }
        }
        e.PendingRuns++;
        PushRun(run, firstLine, ev);
        Drain(force: false);
        if (_processes.IsCrowded)
            _processes.Prune((p, node) => p.Newest >= _eventTail || (p.Wanted && p.High >= _nodeStates[node].Newest - Margin));
    }

    /// <summary>
    /// A run continues an undecided event. After the event's EOE the assembler has completed it, and makes what follows
    /// an event of its own (a late fragment): such an event is kept, and pass two groups its records as a full parse does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Join(ref EventSlot e)
    {
        e.Split = true;
        if ((e.Flags & RunFlags.Ended) != 0)
            e.Keep = true;
    }

    /// <summary>
    /// One of auditd's own records carries auditd's serial, which may lie anywhere among the kernel's: it takes no
    /// place among the node's serials (it would reset them, or jump them forward, and decide pending runs early) and
    /// is kept, as a record without a SYSCALL; the assembler emits it alone.
    /// </summary>
    private void AddDaemonRecord(in RecordRun run, long firstLine, int nodeIndex)
    {
        var ev = NewEvent(nodeIndex, _nodeStates[nodeIndex].Newest);
        ref var e = ref Slot(ev);
        e.Flags = run.Flags;
        e.Keep = true;
        e.Decided = true;
        e.PendingRuns = 1;
        PushRun(run, firstLine, ev);
        Drain(force: false);
    }

    /// <summary>
    /// The next file of a set read in one scan begins (auditd's rotated logs, oldest first). Its runs never join an
    /// event of the file before, since the assembler completes those at the boundary; but the processes and the
    /// undecided runs stay, so that a hot event early in this file still keeps its ancestors' execs from the last one.
    /// </summary>
    public void NextFile()
    {
        _lastEvent = -1;
        _fileStart = _eventHead;
    }

    /// <summary>The end of the file: every remaining run is decided now.</summary>
    public void Finish()
    {
        Drain(force: true);
        _processes.Clear();
        _nodes.Clear();
        _nodeStates.Clear();
        _lastNodeIndex = -1;
        _eventTail = _eventHead;
        _fileStart = _eventHead;
        _lastEvent = -1;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _processes.Dispose();
        if (tables is null)
        {
            _events.Dispose();
            _runs.Dispose();
            return;
        }
        tables.Put(_events); // to the next file's selector
        tables.Put(_runs);
    }

    /// <summary>Events decided not to be parsed: the full parser would have counted each as an event.</summary>
    public long SkippedEvents { get; private set; }

    /// <summary>Of those, the successful execs and the outbound connects to an inet address the full parser would have counted.</summary>
    public long SkippedExecs { get; private set; }

    public long SkippedConnects { get; private set; }

    /// <summary>As <see cref="Sources.Auditd.AuditEventNormalizer"/> decides on the event's records (SYSCALL, EXECVE, SOCKADDR).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CountSkipped(RunFlags f)
    {
        SkippedEvents++;
        var maybeInet = (f & RunFlags.SockAddrMayBeInet) != 0;
        if ((f & RunFlags.Failed) == 0 && (f & (RunFlags.ExecCall | RunFlags.Execve)) != 0 && ((f & RunFlags.Execve) != 0 || maybeInet))
            SkippedExecs++;
        var address = (f & RunFlags.ArchUnknown) != 0 ? RunFlags.InetIfArchUnknown
            : (f & RunFlags.ArchBigEndian) != 0 ? RunFlags.InetIfBigEndian : RunFlags.InetIfLittleEndian;
        if ((f & RunFlags.OutboundCall) != 0 && maybeInet && (f & address) != 0)
            SkippedConnects++;
    }

    private static bool IsHot(RunFlags f) =>
        (f & (RunFlags.Hot | RunFlags.NoPid)) != 0
        || ((f & RunFlags.EmptyArgv) != 0 && (f & (RunFlags.ProctitleMayReference | RunFlags.ProctitleUnchecked)) != 0);

    /// <summary>
    /// Keeps the execs of (node, pid) that may be its current image when the tracker looks at serial
    /// <paramref name="at"/> — the newest up to at + Forward, and those within Margin of it, since events complete
    /// a little out of order — including execs still to come in that range, and goes up to their parents. An image
    /// older than the tracker's window is not current, so nothing before at − Window is kept.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Want(int nodeIndex, int pid, long at, int depth)
    {
        if (pid <= 0 || depth > MaxDepth)
            return;
        ref var process = ref _processes.Find(nodeIndex, pid);
        if (process.Wanted && process.LastWant == at)
            return;
        var low = at - Window;
        var high = at + Forward;
        Span<int> parents = stackalloc int[8];
        var count = 0;
        var top = long.MinValue;
        for (var ev = process.Newest; ev >= _eventTail;)
        {
            ref var e = ref Slot(ev);
            ev = e.PreviousOfProcess;
            if (e.Serial > high)
                continue;
            if (top == long.MinValue)
                top = e.Serial;
            if (e.Serial < top - Margin || e.Serial < low)
                break;
            e.Wanted = true;
            if (e.ParentPid > 0 && count < parents.Length && !parents[..count].Contains(e.ParentPid))
                parents[count++] = e.ParentPid;
        }
        process.High = process.Wanted ? Math.Max(process.High, high) : high;
        process.Wanted = true;
        process.LastWant = at;
        foreach (var parent in parents[..count])
            Want(nodeIndex, parent, at, depth + 1); // the recursion may move entries: `process` is not used after
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Drain(bool force)
    {
        while (_runTail < _runHead)
        {
            ref var pending = ref _runs[(int)(_runTail & (_runs.Length - 1))];
            ref var e = ref Slot(pending.Event);
            if (!e.Decided)
            {
                var crowded = _runHead - _runTail >= MaxPending || _eventHead - _eventTail >= MaxPending;
                if (!force && !crowded && _nodeStates[e.NodeIndex].Newest - e.Serial <= Window + Margin)
                    break;
                e.Decided = true;
                // Wanted events are execs of processes a hot event may consult; events without a SYSCALL, or with a
                // user-space record among its records (the assembler splits those), are kept whole.
                // So is an event in several runs whose SYSCALL was read only for its own run's records.
                // So is one with records after its EOE in one run (the assembler makes them an event of their own).
                e.Keep |= (e.Flags & (RunFlags.Syscall | RunFlags.Standalone | RunFlags.Reopened)) != RunFlags.Syscall || e.Wanted || (crowded && !force)
                    || (e.Split && (e.Flags & RunFlags.CallUnread) != 0);
                if (!e.Keep)
                    CountSkipped(e.Flags);
            }
            emit(new RecordRun
            {
                Offset = pending.Offset,
                Length = pending.Length,
                Records = pending.Records,
                Node = _nodeStates[e.NodeIndex].Hash,
                Serial = pending.Serial,
                Milliseconds = pending.Milliseconds,
            }, pending.FirstLine, e.Keep);
            e.PendingRuns--;
            _runTail++;
            while (_eventTail < _eventHead && Slot(_eventTail) is { Decided: true, PendingRuns: 0 })
                _eventTail++;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long NewEvent(int nodeIndex, long serial, bool behind = false)
    {
        if (_eventHead - _eventTail == _events.Length)
            _events = Grow(_events, _eventTail, _eventHead);
        var ev = _eventHead++;
        _events[(int)(ev & (_events.Length - 1))] = new EventSlot { NodeIndex = nodeIndex, Serial = serial, PreviousOfProcess = -1, Behind = behind };
        return ev;
    }

    /// <summary>
    /// The open event a run with an old serial continues: records of one event interleave with others' only
    /// nearby, and the assembler itself treats anything later than its slack as a late fragment.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long FindOpen(int nodeIndex, long serial)
    {
        var limit = Math.Max(Math.Max(_eventTail, _fileStart), _eventHead - 4096);
        for (var ev = _eventHead - 1; ev >= limit; ev--)
        {
            ref var e = ref Slot(ev);
            if (e.NodeIndex != nodeIndex || (e.Flags & RunFlags.Daemon) != 0)
                continue;
            if (e.Serial == serial)
                return e.Decided ? -1 : ev;
            // Events that came as the newest of their node have growing serials: past one this far behind, every event
            // is. One that came behind the newest (out of order) says nothing of those before it, and is passed over.
            if (e.Serial < serial - Margin && !e.Behind)
                break;
        }
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PushRun(in RecordRun run, long firstLine, long ev)
    {
        if (_runHead - _runTail == _runs.Length)
            _runs = Grow(_runs, _runTail, _runHead);
        _runs[(int)(_runHead++ & (_runs.Length - 1))] = new PendingRun
        {
            Offset = run.Offset,
            Length = run.Length,
            Records = run.Records,
            Serial = run.Serial,
            Milliseconds = run.Milliseconds,
            FirstLine = firstLine,
            Event = ev,
        };
    }

    private static NativeTable<T> Grow<T>(NativeTable<T> ring, long tail, long head) where T : unmanaged
    {
        var bigger = new NativeTable<T>(ring.Length * 2);
        for (var i = tail; i < head; i++)
            bigger[(int)(i & (bigger.Length - 1))] = ring[(int)(i & (ring.Length - 1))];
        ring.Dispose();
        return bigger;
    }

    private ref EventSlot Slot(long ev) => ref _events[(int)(ev & (_events.Length - 1))];

    private int NodeIndex(ulong node)
    {
        if (node == _lastNode && _lastNodeIndex >= 0)
            return _lastNodeIndex;
        if (!_nodes.TryGetValue(node, out var index))
        {
            _nodes[node] = index = _nodeStates.Count;
            _nodeStates.Add(new NodeState(node));
        }
        _lastNode = node;
        _lastNodeIndex = index;
        return index;
    }

    private struct EventSlot
    {
        public int NodeIndex;
        public long Serial;
        public int Pid;
        public int ParentPid;
        public long PreviousOfProcess;
        public int PendingRuns;
        public RunFlags Flags;
        public bool Keep;
        /// <summary>An exec that may be the current image of a process a hot event consults.</summary>
        public bool Wanted;
        public bool Chained;
        public bool Linked;
        public bool Decided;
        /// <summary>Its records came in more than one run (interleaved with another event's, or cut by a block's end).</summary>
        public bool Split;
        /// <summary>Its serial was not the newest of its node when it began (its records came out of order).</summary>
        public bool Behind;
    }

    /// <summary>What the emitter needs of a run (its node is its event's).</summary>
    private struct PendingRun
    {
        public long Offset;
        public long FirstLine;
        public long Event;
        public ulong Serial;
        public long Milliseconds;
        public int Length;
        public int Records;
    }

    /// <summary>Serials of one node as a position that keeps growing across the 32-bit wrap and a reset.</summary>
    private sealed class NodeState(ulong hash)
    {
        public ulong Hash => hash;

        private ulong _newestRaw;
        private bool _any;

        public long Newest { get; private set; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long Position(ulong raw, out bool jumped)
        {
            jumped = false;
            if (!_any)
            {
                _any = true;
                _newestRaw = raw;
                Newest = (long)(raw & 0xFFFF_FFFF);
                return Newest;
            }
            var delta = raw <= uint.MaxValue && _newestRaw <= uint.MaxValue ? (int)((uint)raw - (uint)_newestRaw) : (long)(raw - _newestRaw);
            if (delta < -SerialReset)
            {
                // The kernel restarted its count (a reboot inside the file), or logs were joined out of order: start a
                // region no earlier event can reach.
                Newest += 2 * SerialReset;
                _newestRaw = raw;
                jumped = true;
                return Newest;
            }
            var position = Newest + delta;
            jumped = delta > Window + Margin;
            if (delta > 0)
            {
                Newest = position;
                _newestRaw = raw;
            }
            return position;
        }
    }
}
