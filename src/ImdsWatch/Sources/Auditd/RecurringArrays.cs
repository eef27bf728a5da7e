using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// One array for every exec whose records of a kind hold the same bytes: the argv of a command run again (cron, a
/// script's loop, a shell's pipeline), the files it names. The process table keeps ~40,000 execs for ancestry, and
/// each array of its own outlived the young generation and was copied up to gen2; a shared one is already old.
/// Two-way set-associative and keyed by the bytes themselves (a hit is a hash and a comparison, a miss replaces the older of two), the
/// keys in one fixed buffer, so memory is fixed whatever the input. The arrays handed out are never written again.
/// Not thread-safe (one per normalizer).
/// </summary>
internal sealed class RecurringArrays<T>
{
    /// <summary>Longer keys are not kept (an exec's PATH records take ~200 bytes each, a command line rarely more).</summary>
    public const int MaxKeyLength = 1024;

    private readonly byte[] _keys;
    private readonly int[] _lengths;
    private readonly T[]?[] _values;
    private readonly byte[] _older; // per pair of slots: which of the two goes next (0 or 1)
    private readonly int _mask;

    public RecurringArrays(int slots = 1 << 10)
    {
        if (slots < 2 || (slots & (slots - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(slots), "a power of two, at least 2");
        _keys = new byte[slots * MaxKeyLength];
        _lengths = new int[slots];
        _values = new T[]?[slots];
        _older = new byte[slots / 2];
        _mask = slots - 1;
    }

    /// <summary>The array kept for <paramref name="key"/>, or null; <paramref name="slot"/> is where to keep one.</summary>
    /// <remarks>
    /// Two ways per hash, the one used less recently replaced: direct-mapped, two recurring keys of one slot pushed
    /// each other out for good (the sparse benchmark's 256 distinct command lines in 512 slots: ~40 % shared one).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public T[]? Find(ReadOnlySpan<byte> key, out int slot)
    {
        var first = (int)Hash(key) & _mask & ~1;
        for (var way = first; way <= first + 1; way++)
        {
            if (_values[way] is { } kept && _lengths[way] == key.Length && key.SequenceEqual(_keys.AsSpan(way * MaxKeyLength, key.Length)))
            {
                _older[first >> 1] = (byte)((way & 1) ^ 1);
                slot = way;
                return kept;
            }
        }
        slot = first + _older[first >> 1];
        return null;
    }

    /// <summary>
    /// A multiplicative hash, eight bytes a step: keys are a few hundred bytes (an exec's PATH records), and
    /// <see cref="HashCode.AddBytes"/>, four bytes a step through its rounds, was most of a lookup's ~750 instructions.
    /// Not seeded: a log made to collide only makes its execs miss, and a miss costs what an exec seen once costs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Hash(ReadOnlySpan<byte> key)
    {
        var h = (ulong)key.Length * 0x9E3779B97F4A7C15UL;
        var i = 0;
        for (; i + 8 <= key.Length; i += 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(key[i..])) * 0xFF51AFD7ED558CCDUL;
            h ^= h >> 29;
        }
        for (; i < key.Length; i++)
            h = (h ^ key[i]) * 0x100000001B3UL;
        return h ^ (h >> 32);
    }

    /// <summary>Keeps <paramref name="value"/> for <paramref name="key"/> (at most <see cref="MaxKeyLength"/> bytes) where <see cref="Find"/> said.</summary>
    public void Keep(int slot, ReadOnlySpan<byte> key, T[] value)
    {
        key.CopyTo(_keys.AsSpan(slot * MaxKeyLength, MaxKeyLength));
        _lengths[slot] = key.Length;
        _values[slot] = value;
        _older[slot >> 1] = (byte)((slot & 1) ^ 1);
    }
}
