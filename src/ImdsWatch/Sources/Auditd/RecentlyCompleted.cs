using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// The (node, serial) of the events completed among the last <see cref="Window"/> completions: what a late record
/// is a fragment of. An open-addressed table stamped with the completion's number, so that forgetting is free (an
/// entry older than the window is a free slot) and the per-event cost is one probe in the usual case, where
/// serials climb by one and each lands in a slot of its own. Probing is bounded by the longest displacement of a
/// live entry, recomputed once per window, so work per record stays constant whatever the serials.
/// </summary>
internal sealed class RecentlyCompleted
{
    public const int Window = 16384;
    private const int Size = Window * 2; // at most half the slots are live
    private const int FirstSize = 1024; // grown as events come: a prefiltered scan completes a few thousand

    private Entry[] _slots = new Entry[FirstSize];
    private int _mask = FirstSize - 1;
    private long _added;
    private long _completions;
    private int _maxProbe;
    private long _nextRecount = Window;

    private struct Entry
    {
        public string? Node;
        public ulong Serial;
        public long Stamp; // the completion that added it; 0 = never used
    }

    /// <summary>Counts one completion; the event's key is remembered unless it already is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(string? node, ulong serial)
    {
        // As a set that forgets after each completion: the key is looked up among what the last completion left,
        // and is then remembered with this completion's number, in a slot that this completion frees or a free one.
        var before = _completions - Window;
        var after = before + 1;
        _completions++;
        var start = Home(node, serial);
        var free = -1;
        for (var probe = 0; probe <= _maxProbe; probe++)
        {
            ref var slot = ref _slots[(start + probe) & _mask];
            if (Taken(slot.Stamp, before) && slot.Serial == serial && SameNode(slot.Node, node))
                return; // remembered already, from its first completion (as a set would)
            if (free < 0 && !Taken(slot.Stamp, after))
                free = probe;
            if (slot.Stamp == 0)
                break; // never used: the key is not further on
        }
        if (free < 0)
        {
            free = _maxProbe + 1;
            while (Taken(_slots[(start + free) & _mask].Stamp, after))
                free++; // ends: at most Window of the 2 × Window slots are taken
        }
        _slots[(start + free) & _mask] = new Entry { Node = node, Serial = serial, Stamp = _completions };
        if (free > _maxProbe)
            _maxProbe = free;
        if (++_added * 2 >= _slots.Length && _slots.Length < Size)
            Grow(); // live entries stay at most half the slots, as they do at full size
        if (_completions >= _nextRecount)
            Recount();
    }

    /// <summary>Counts one completion of an event that was not parsed (the prefilter skipped it).</summary>
    public void CountSkipped()
    {
        _completions++;
        if (_completions >= _nextRecount)
            Recount();
    }

    public bool Contains(string? node, ulong serial)
    {
        var start = Home(node, serial);
        for (var probe = 0; probe <= _maxProbe; probe++)
        {
            ref var slot = ref _slots[(start + probe) & _mask];
            if (slot.Stamp == 0)
                return false;
            if (IsLive(slot) && slot.Serial == serial && SameNode(slot.Node, node))
                return true;
        }
        return false;
    }

    /// <summary>Forgets everything (end of an input: serials restart with the kernel).</summary>
    public void Clear()
    {
        Array.Clear(_slots);
        _maxProbe = 0;
        _added = 0;
    }

    /// <summary>Twice the slots, the live entries in them again.</summary>
    private void Grow()
    {
        var old = _slots;
        _slots = new Entry[old.Length * 2];
        _mask = _slots.Length - 1;
        _maxProbe = 0;
        _added = 0;
        foreach (var entry in old)
        {
            if (!IsLive(entry))
                continue;
            var start = Home(entry.Node, entry.Serial);
            var probe = 0;
            while (_slots[(start + probe) & _mask].Stamp != 0)
                probe++;
            _slots[(start + probe) & _mask] = entry;
            _maxProbe = Math.Max(_maxProbe, probe);
            _added++;
        }
    }

    private bool IsLive(in Entry slot) => Taken(slot.Stamp, _completions - Window);

    /// <summary>A slot is taken by an entry added after <paramref name="forgotten"/> (0: never used).</summary>
    private static bool Taken(long stamp, long forgotten) => stamp != 0 && stamp > forgotten;

    // Node names are interned by the parser, but not all of them (it keeps 4,096): compared by value.
    private static bool SameNode(string? a, string? b) => ReferenceEquals(a, b) || string.Equals(a, b, StringComparison.Ordinal);

    private int Home(string? node, ulong serial) =>
        (int)((serial ^ (serial >> 32) ^ (uint)(node is null ? 0 : node.GetHashCode(StringComparison.Ordinal))) & (uint)_mask);

    /// <summary>The longest displacement among live entries: probing need not go further.</summary>
    private void Recount()
    {
        _nextRecount = _completions + Window;
        if (_maxProbe == 0)
            return; // nothing to lower: the usual case, serials climbing by one, each in a slot of its own
        var longest = 0;
        for (var i = 0; i < _slots.Length; i++)
        {
            if (!IsLive(_slots[i]))
                continue;
            var displacement = (i - Home(_slots[i].Node, _slots[i].Serial)) & _mask;
            if (displacement > longest)
                longest = displacement;
        }
        _maxProbe = longest;
    }
}
