namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// Large arrays kept from one file of a scan to the next (pass one's block buffers, pass two's batches). A set of
/// auditd's 8 MB rotated logs otherwise allocates them anew for every file: ~3 MB of large objects a file, which
/// used up the scan's no-GC region and started a background gen2 collection every few files. An array is taken
/// by exact length; at most <c>capacity</c> are kept.
/// </summary>
internal sealed class ArrayShelf<T>(int capacity)
{
    private readonly List<T[]> _arrays = [];
    private readonly Lock _lock = new();

    /// <summary>An array of exactly <paramref name="length"/> items: a kept one (its contents as they were left) or a new one.</summary>
    public T[] Take(int length)
    {
        lock (_lock)
        {
            for (var i = _arrays.Count - 1; i >= 0; i--)
            {
                if (_arrays[i].Length != length)
                    continue;
                var array = _arrays[i];
                _arrays.RemoveAt(i);
                return array;
            }
        }
        return new T[length];
    }

    /// <summary>Keeps <paramref name="array"/> for a later <see cref="Take"/>; the caller clears what must not outlive it.</summary>
    public void Put(T[] array)
    {
        lock (_lock)
        {
            if (_arrays.Count < capacity)
                _arrays.Add(array);
        }
    }

    /// <summary>How many arrays are kept (tests).</summary>
    internal int Count
    {
        get
        {
            lock (_lock)
                return _arrays.Count;
        }
    }
}
