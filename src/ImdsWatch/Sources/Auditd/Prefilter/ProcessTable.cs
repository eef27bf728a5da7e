using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// The run selector's processes by (node, pid): open addressing in one array, so that a lookup costs one cache
/// miss and nothing is allocated while the table holds what the window needs. Entries go in bulk
/// (<see cref="Prune"/>), by rebuilding the table from the survivors.
/// </summary>
internal sealed class ProcessTable(int expected, TableShelf? shelf = null) : IDisposable
{
    private NativeTable<ProcessEntry> _entries = Table(shelf, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(expected, 1024, 1 << 20)));
    private NativeTable<ProcessEntry>? _spare; // a prune rebuilds into it, and the two swap
    private int _count;
    private bool _disposed;

    public int Count => _count;

    /// <summary>Half full: time to <see cref="Prune"/>.</summary>
    public bool IsCrowded => _count >= _entries.Length / 2;

    /// <summary>The process, added (no exec yet, nothing wanted) if new. The reference holds until the table grows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ref ProcessEntry Find(int nodeIndex, int pid)
    {
        var key = Key(nodeIndex, pid);
        var mask = _entries.Length - 1;
        for (var i = Home(key, mask); ; i = (i + 1) & mask)
        {
            ref var e = ref _entries[i];
            if (e.Key == key)
                return ref e;
            if (e.Key == 0)
            {
                if (_count + 1 > _entries.Length * 3 / 4)
                {
                    Rebuild(_entries.Length * 2, keep: null);
                    return ref Find(nodeIndex, pid);
                }
                _count++;
                e = new ProcessEntry { Key = key, Newest = -1 };
                return ref e;
            }
        }
    }

    /// <summary>Forgets the processes <paramref name="keep"/> (given the entry and its node index) says no to.</summary>
    public void Prune(Func<ProcessEntry, int, bool> keep)
    {
        Rebuild(_entries.Length, keep);
        if (_count >= _entries.Length * 3 / 8)
            Rebuild(_entries.Length * 2, keep: null); // crowded again soon: grow
    }

    public void Clear()
    {
        _entries.Clear();
        _count = 0;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (shelf is null)
        {
            _entries.Dispose();
            _spare?.Dispose();
            return;
        }
        shelf.Put(_entries);
        if (_spare is not null)
            shelf.Put(_spare);
    }

    private static NativeTable<ProcessEntry> Table(TableShelf? shelf, int length) => shelf?.Take<ProcessEntry>(length) ?? new(length);

    private void Rebuild(int capacity, Func<ProcessEntry, int, bool>? keep)
    {
        NativeTable<ProcessEntry> target;
        if (capacity == _entries.Length)
        {
            target = _spare ??= new NativeTable<ProcessEntry>(capacity);
            target.Clear();
        }
        else
        {
            target = new NativeTable<ProcessEntry>(capacity);
        }
        var mask = capacity - 1;
        var count = 0;
        foreach (var e in _entries.AsSpan())
        {
            if (e.Key == 0 || (keep is not null && !keep(e, (int)(e.Key >> 32) - 1)))
                continue;
            var i = Home(e.Key, mask);
            while (target[i].Key != 0)
                i = (i + 1) & mask;
            target[i] = e;
            count++;
        }
        if (ReferenceEquals(target, _spare))
        {
            _spare = _entries;
        }
        else
        {
            _entries.Dispose();
            _spare?.Dispose();
            _spare = null;
        }
        _entries = target;
        _count = count;
    }

    private static long Key(int nodeIndex, int pid) => ((long)(nodeIndex + 1) << 32) | (uint)pid; // never 0

    // Pids of one node stay apart, and new pids are mostly the last plus a few: slots near each other, warm in cache.
    private static int Home(long key, int mask) => (int)((uint)key + (uint)(key >> 32) * 0x9E3779B9u) & mask;
}

/// <summary>A process: its newest exec (the chain runs back through the events) and what is wanted of it.</summary>
#pragma warning disable CA1051 // a hot-path value type, updated in place through references
internal struct ProcessEntry
{
    public long Key;
    public long Newest;
    public long High;
    public long LastWant;
    public bool Wanted;
}
#pragma warning restore CA1051
