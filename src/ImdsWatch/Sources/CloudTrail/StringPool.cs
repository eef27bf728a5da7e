using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// One string per recurring short value (event names, sources, regions, roles, user agents): CloudTrail repeats
/// them on every record, and the calls kept for evidence then share them. A direct-mapped cache keyed by the UTF-8
/// bytes: a hit costs a hash and a comparison (no transcoding, no allocation), a miss replaces the slot, so
/// memory is fixed whatever the input. Invalid UTF-8 becomes U+FFFD, never an exception. Not thread-safe (one per
/// reader).
/// </summary>
internal sealed class StringPool
{
    private const int MaxPooledLength = 256;

    private readonly byte[]?[] _keys;
    private readonly string[] _values;
    private readonly int _mask;

    public StringPool(int slots = 1 << 12)
    {
        if (slots <= 0 || (slots & (slots - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(slots), "a power of two");
        _keys = new byte[slots][];
        _values = new string[slots];
        _mask = slots - 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxPooledLength)
            return Encoding.UTF8.GetString(utf8);
        var slot = (int)Hash(utf8) & _mask;
        if (_values[slot] is { } cached && (_keys[slot] is { } key ? utf8.SequenceEqual(key) : Ascii.Equals(utf8, cached)))
            return cached;
        var value = Encoding.UTF8.GetString(utf8);
        // An ASCII value is its own key (compared char to byte); only other text keeps a copy of its bytes.
        _keys[slot] = Ascii.IsValid(utf8) ? null : utf8.ToArray();
        _values[slot] = value;
        return value;
    }

    /// <summary>A multiplicative hash, eight bytes at a time (values are short: addresses, names, agents).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        var h = (ulong)bytes.Length * 0x9E3779B97F4A7C15UL;
        while (bytes.Length >= 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * 0xFF51AFD7ED558CCDUL;
            h ^= h >> 29;
            bytes = bytes[8..];
        }
        foreach (var b in bytes)
            h = (h ^ b) * 0x100000001B3UL;
        return h ^ (h >> 32);
    }

    public string Get(string value) => value.Length > MaxPooledLength ? value : Get(Encoding.UTF8.GetBytes(value));
}
