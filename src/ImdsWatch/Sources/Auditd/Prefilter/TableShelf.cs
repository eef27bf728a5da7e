namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// The run selector's native tables kept from one file of a scan to the next. A set of auditd's 8 MB rotated logs
/// otherwise maps, faults in, zeroes and unmaps ~10 MB of huge pages per file (the tables are sized for a file of
/// its size): on the 2-core VM that was most of what 63 files cost beyond one file of the same bytes. A table is
/// taken by type and exact length and handed out zeroed, as a new one would be. Disposing frees what is kept.
/// </summary>
public sealed class TableShelf : IDisposable
{
    private readonly int _capacity;
    private readonly List<IDisposable> _tables = [];

    internal TableShelf(int capacity) => _capacity = capacity;
    private readonly Lock _lock = new();

    /// <summary>A zeroed table of <paramref name="length"/> items: a kept one cleared, or a new one.</summary>
    internal NativeTable<T> Take<T>(int length) where T : unmanaged
    {
        lock (_lock)
        {
            for (var i = _tables.Count - 1; i >= 0; i--)
            {
                if (_tables[i] is not NativeTable<T> table || table.Length != length)
                    continue;
                _tables.RemoveAt(i);
                table.Clear();
                return table;
            }
        }
        return new NativeTable<T>(length);
    }

    /// <summary>Keeps <paramref name="table"/> for a later <see cref="Take{T}"/>, or frees it when the shelf is full.</summary>
    internal void Put<T>(NativeTable<T> table) where T : unmanaged
    {
        lock (_lock)
        {
            if (_tables.Count < _capacity)
            {
                _tables.Add(table);
                return;
            }
        }
        table.Dispose();
    }

    /// <summary>How many tables are kept (tests).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
                return _tables.Count;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var table in _tables)
                table.Dispose();
            _tables.Clear();
        }
    }
}
