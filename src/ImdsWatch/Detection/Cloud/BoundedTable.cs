namespace ImdsWatch.Detection.Cloud;

/// <summary>
/// A table of state with a bound: past <c>capacity</c> entries the least recently used one is let go of, handed
/// to <c>onEvict</c> first (so that it can still be judged) and counted. Memory stays flat whatever the input.
/// </summary>
internal sealed class BoundedTable<TKey, TValue>(int capacity, Action<TKey, TValue>? onEvict = null)
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _entries = [];
    private readonly LinkedList<(TKey Key, TValue Value)> _recency = new();

    public long Evicted { get; private set; }

    public int Count => _entries.Count;

    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var node))
        {
            Touch(node);
            value = node.Value.Value;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>Looks an entry up without counting it as used.</summary>
    public bool TryPeek(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var node))
        {
            value = node.Value.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public TValue GetOrAdd(TKey key, Func<TKey, TValue> create)
    {
        if (TryGet(key, out var value))
            return value;
        value = create(key);
        _entries[key] = _recency.AddFirst((key, value));
        if (_entries.Count > capacity)
        {
            var oldest = _recency.Last!;
            _recency.RemoveLast();
            _entries.Remove(oldest.Value.Key);
            Evicted++;
            onEvict?.Invoke(oldest.Value.Key, oldest.Value.Value);
        }
        return value;
    }

    public bool Remove(TKey key)
    {
        if (!_entries.Remove(key, out var node))
            return false;
        _recency.Remove(node);
        return true;
    }

    /// <summary>All entries, most recently used first.</summary>
    public IEnumerable<(TKey Key, TValue Value)> Entries => _recency;

    private void Touch(LinkedListNode<(TKey Key, TValue Value)> node)
    {
        if (node != _recency.First)
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
        }
    }
}
