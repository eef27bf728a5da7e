using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Groups records into events by (node, serial). Events interleave and arrive out of order, and many
/// kernels and auditd versions write no EOE, so an open event is completed by EOE, or once a later serial
/// of its node has been seen and either <see cref="SlackRecords"/> records or <see cref="SlackMilliseconds"/>
/// of log time have passed since it was last touched; <see cref="Flush"/> completes the rest. Serials wrap
/// at 2^32 (rollover), so "later" is compared modulo 2^32.
/// </summary>
public sealed class AuditEventAssembler(Action<AuditEvent> onEvent)
{
    public int SlackRecords { get; init; } = 256;
    public long SlackMilliseconds { get; init; } = 5_000;
    public int MaxOpenEvents { get; init; } = 8192;

    private readonly Dictionary<(string? Node, ulong Serial), AuditEvent> _open = new(new NodeSerialComparer());
    private readonly Dictionary<string, ulong> _latestSerial = new(StringComparer.Ordinal);
    private readonly RecentlyCompleted _recentlyCompleted = new();
    private readonly List<AuditEvent> _due = [];
    private readonly Stack<AuditEvent> _free = new();
    private long _counter;
    private ulong _lastObservedSerial = ulong.MaxValue;
    private string? _lastObservedNode;
    private long _latestMilliseconds;

    // Fast paths: most records belong to the event of the record before them, and node names are interned by
    // the parser, so a reference comparison finds them without hashing.
    private AuditEvent? _last;
    private string? _lastNode = "\0";
    private ulong _lastNodeLatest;
    private bool _lastNodeKnown;

    /// <summary>
    /// Runs given to <see cref="ObserveRun"/> whose event is open here (a kept record of the same serial came first):
    /// a full parse adds them to that event, so the prefilter, which counted them as events of their own, takes them off.
    /// </summary>
    public long ObservedJoiningOpen { get; private set; }

    /// <summary>Records that arrived after their event was completed; each is still emitted as a fragment.</summary>
    public long LateRecords { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(AuditRecord record)
    {
        if (AuditRecordType.IsDaemon(record.Type))
        {
            // Outside the kernel's count: emitted alone, with no say in which serials are newest or complete.
            _counter++;
            if (record.EpochMilliseconds > _latestMilliseconds)
                _latestMilliseconds = record.EpochMilliseconds;
            var daemon = NewEvent(record);
            daemon.IsOpen = false;
            daemon.Records.Add(record);
            onEvent(daemon);
            MaybeCompleteDue();
            return;
        }
        _counter++;
        if (record.EpochMilliseconds > _latestMilliseconds)
            _latestMilliseconds = record.EpochMilliseconds;
        var isNewest = NoteSerial(record.Node, record.Serial);

        if (_last is { IsOpen: true } last && last.Serial == record.Serial && ReferenceEquals(last.Node, record.Node))
        {
            last.LastTouched = _counter;
            if (record.Type == AuditRecordType.Eoe)
                Complete(last);
            else
                last.Records.Add(record);
            MaybeCompleteDue();
            return;
        }

        var key = (record.Node, record.Serial);
        if (_open.TryGetValue(key, out var open))
        {
            open.LastTouched = _counter;
            if (record.Type == AuditRecordType.Eoe)
                Complete(open);
            else
                open.Records.Add(record);
        }
        else if (record.Type == AuditRecordType.Eoe)
        {
            // EOE for an event that is already complete, or an empty one: nothing to add.
        }
        else if (!isNewest && _recentlyCompleted.Contains(record.Node, record.Serial))
        {
            LateRecords++;
            var fragment = NewEvent(record);
            fragment.IsLateFragment = true;
            fragment.Records.Add(record);
            onEvent(fragment);
        }
        else if (AuditRecordType.IsStandalone(record.Type))
        {
            var single = NewEvent(record);
            single.Records.Add(record);
            Complete(single, wasOpen: false);
        }
        else
        {
            var created = NewEvent(record);
            created.LastTouched = _counter;
            created.Records.Add(record);
            _open[key] = created;
            _last = created;
        }
        MaybeCompleteDue();
    }

    /// <summary>
    /// An event given to the callback is done with (its records released): the next event may be this object.
    /// Only for an event the callback has returned from, and never kept elsewhere.
    /// </summary>
    internal void Recycle(AuditEvent e)
    {
        if (_free.Count < 1024)
            _free.Push(e);
    }

    private AuditEvent NewEvent(AuditRecord first) => _free.Count > 0
        ? _free.Pop().Reuse(first.Node, first.Serial, first.EpochMilliseconds)
        : new AuditEvent(first.Node, first.Serial, first.EpochMilliseconds);

    /// <summary>
    /// A run of <paramref name="records"/> records of one event that the caller chose not to add (the prefilter
    /// skipped them): the same effect on the clock, the serials and the record count as adding them would have.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ObserveRun(string? node, ulong serial, long epochMilliseconds, int records)
    {
        if (epochMilliseconds > _latestMilliseconds)
            _latestMilliseconds = epochMilliseconds;
        NoteSerial(node, serial);
        // A full parse would complete this event too: it counts among the completions, so that the recently
        // completed events (what a late record is a fragment of) are forgotten at the same pace either way.
        if (serial != _lastObservedSerial || !ReferenceEquals(node, _lastObservedNode))
        {
            _lastObservedSerial = serial;
            _lastObservedNode = node;
            _recentlyCompleted.CountSkipped();
            if (_open.ContainsKey((node, serial)))
                ObservedJoiningOpen++;
        }
        var end = _counter + records;
        if (_open.Count > MaxOpenEvents)
        {
            _counter++;
            CompleteDue(force: true);
        }
        // Completion is looked at every 256 records; the serial and time are the same for all of the run's records.
        for (var boundary = (_counter | 255) + 1; boundary <= end; boundary += 256)
        {
            _counter = boundary;
            if (_open.Count > 0)
                CompleteDue(force: _open.Count > MaxOpenEvents);
        }
        _counter = end;
    }

    private void MaybeCompleteDue()
    {
        if ((_counter & 255) == 0 || _open.Count > MaxOpenEvents)
            CompleteDue(force: _open.Count > MaxOpenEvents);
    }

    /// <summary>
    /// Completes every open event, oldest serial first, and forgets serials: at the end of a file, since
    /// serials restart with the kernel and two files may reuse them.
    /// </summary>
    public void Flush()
    {
        _due.Clear();
        _due.AddRange(_open.Values);
        EmitDue();
        _recentlyCompleted.Clear();
        _latestSerial.Clear();
        _latestMilliseconds = 0;
        _last = null;
        _lastNodeKnown = false;
    }

    /// <summary>
    /// The next file of a set read in one scan begins: what <see cref="Flush"/> does, and the record count starts
    /// again, so that events complete where they would for an assembler of that file alone (the full parser reads
    /// each file with one of its own, and completion is looked at every 256 records).
    /// </summary>
    public void Restart()
    {
        Flush();
        _counter = 0;
        _lastObservedSerial = ulong.MaxValue;
        _lastObservedNode = null;
    }

    /// <summary>Records the newest serial of the node; true when this serial is newer than any seen before.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool NoteSerial(string? node, ulong serial)
    {
        if (_lastNodeKnown && ReferenceEquals(node, _lastNode))
        {
            if (!IsLater(serial, _lastNodeLatest))
                return false;
            _lastNodeLatest = serial;
            _latestSerial[node ?? ""] = serial;
            return true;
        }
        var k = node ?? "";
        var newest = !_latestSerial.TryGetValue(k, out var latest) || IsLater(serial, latest);
        if (newest)
            _latestSerial[k] = serial;
        _lastNode = node;
        _lastNodeLatest = newest ? serial : latest;
        _lastNodeKnown = true;
        return newest;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CompleteDue(bool force)
    {
        _due.Clear();
        // Open events are nearly all of one node: its latest serial is looked up when the node changes, not for each
        // event (~1.5 % of the full parser's reading thread, every 256 records for each of a few hundred open events).
        string? node = null;
        var latest = 0UL;
        var known = false;
        foreach (var e in _open.Values)
        {
            if (!known || !ReferenceEquals(e.Node, node))
            {
                latest = _latestSerial[e.Node ?? ""];
                node = e.Node;
                known = true;
            }
            var superseded = IsLater(latest, e.Serial);
            var stale = _counter - e.LastTouched > SlackRecords || _latestMilliseconds - e.EpochMilliseconds > SlackMilliseconds;
            if (superseded && stale)
                _due.Add(e);
        }
        if (force && _due.Count == 0)
            _due.AddRange(_open.Values.OrderBy(e => e.LastTouched).Take(_open.Count / 2));
        EmitDue();
    }

    private void EmitDue()
    {
        _due.Sort(static (a, b) => a.EpochMilliseconds != b.EpochMilliseconds
            ? a.EpochMilliseconds.CompareTo(b.EpochMilliseconds)
            : a.Serial.CompareTo(b.Serial));
        foreach (var e in _due)
            Complete(e);
        _due.Clear();
    }

    private void Complete(AuditEvent e, bool wasOpen = true)
    {
        e.IsOpen = false;
        if (ReferenceEquals(e, _last))
            _last = null;
        if (wasOpen)
            _open.Remove((e.Node, e.Serial));
        _recentlyCompleted.Add(e.Node, e.Serial);
        onEvent(e);
    }

    /// <summary>True when serial a comes after b, allowing for the 32-bit wrap of audit serials.</summary>
    internal static bool IsLater(ulong a, ulong b)
    {
        if (a <= uint.MaxValue && b <= uint.MaxValue)
        {
            var distance = (uint)a - (uint)b;
            return distance != 0 && distance < 0x8000_0000u;
        }
        return a > b;
    }
}

/// <summary>
/// Open events by node and serial. The node's hash is kept for the last node seen: nodes are interned by the parser,
/// so nearly every lookup finds the same string and hashes it by reference comparison (the tuple's default comparer
/// hashed the text at every lookup: ~40 of ~2,100 samples of a 525 MB prefiltered scan, pass two). The text's own
/// randomised hash still goes into the key, so a hostile log cannot pile open events into one bucket. One instance per
/// assembler, which is used from one thread.
/// </summary>
internal sealed class NodeSerialComparer : IEqualityComparer<(string? Node, ulong Serial)>
{
    private string? _node;
    private int _nodeHash;

    public bool Equals((string? Node, ulong Serial) x, (string? Node, ulong Serial) y) =>
        x.Serial == y.Serial && string.Equals(x.Node, y.Node, StringComparison.Ordinal);

    public int GetHashCode((string? Node, ulong Serial) key)
    {
        if (!ReferenceEquals(key.Node, _node))
        {
            _nodeHash = key.Node?.GetHashCode(StringComparison.Ordinal) ?? 0;
            _node = key.Node;
        }
        return key.Serial.GetHashCode() ^ _nodeHash;
    }
}
