using System.Text;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// One string per distinct short value (event names, regions, roles, addresses, user agents): CloudTrail repeats
/// them on every record, and the calls kept for evidence then share them. Bounded: past the cap, values are
/// decoded but not kept. Invalid UTF-8 becomes U+FFFD, never an exception. Not thread-safe (one per reader).
/// </summary>
internal sealed class StringPool
{
    private const int MaxPooledLength = 256;

    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;

    public StringPool(int capacity = 1 << 16)
    {
        _capacity = capacity;
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxPooledLength)
            return Encoding.UTF8.GetString(utf8);
        Span<char> chars = stackalloc char[MaxPooledLength];
        var n = Encoding.UTF8.GetChars(utf8, chars);
        if (_lookup.TryGetValue(chars[..n], out var known))
            return known;
        var s = new string(chars[..n]);
        if (_strings.Count < _capacity)
            _strings.Add(s, s);
        return s;
    }

    public string Get(string value)
    {
        if (value.Length > MaxPooledLength)
            return value;
        if (_strings.TryGetValue(value, out var known))
            return known;
        if (_strings.Count < _capacity)
            _strings.Add(value, value);
        return value;
    }
}
