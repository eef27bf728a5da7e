using System.Runtime.CompilerServices;
using System.Text;
using ImdsWatch.Sources.CloudTrail;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// The key=value fields of a record body. Raw fields come first; in the ENRICHED format the kernel's
/// fields are followed by a 0x1D separator and auditd's interpreted fields (upper-case keys: UID="root").
/// User-space records nest their fields in msg='...'; those are merged in. Parsing only indexes the body:
/// strings are made for the fields that are asked for.
/// </summary>
public sealed class AuditFields
{
    private const byte EnrichedSeparator = 0x1D;
    private byte[] _body = [];
    private Slot[] _slots = [];
    private readonly StringPool? _strings;
    private int _count;
    private List<AuditField>? _all;

    /// <summary>A field's place in the body, 16 bytes: records are parsed by the ten thousand in a scan.</summary>
    private readonly struct Slot(int keyStart, int keyLength, int valueStart, int valueLength, bool quoted, bool interpreted)
    {
        private readonly int _valueLengthAndFlags = (valueLength << 2) | (quoted ? 1 : 0) | (interpreted ? 2 : 0);

        public int KeyStart { get; } = keyStart;
        public int KeyLength { get; } = keyLength;
        public int ValueStart { get; } = valueStart;
        public int ValueLength => _valueLengthAndFlags >>> 2;
        public bool Quoted => (_valueLengthAndFlags & 1) != 0;
        public bool Interpreted => (_valueLengthAndFlags & 2) != 0;
    }

    /// <param name="strings">Where the values asked for get their strings: one per recurring value (exe, comm, cwd,
    /// user names), so that the events detection keeps share them instead of each holding copies.</param>
    internal AuditFields(StringPool? strings) => _strings = strings;

    public IReadOnlyList<AuditField> All
    {
        get
        {
            if (_all is null)
            {
                _all = new List<AuditField>(_count);
                for (var n = 0; n < _count; n++)
                    _all.Add(Materialize(_slots[n]));
            }
            return _all;
        }
    }

    /// <summary>The number of fields, for reading them one by one without making strings (<see cref="KeyAt"/>).</summary>
    internal int Count => _count;

    internal ReadOnlySpan<byte> KeyAt(int index) => _body.AsSpan(_slots[index].KeyStart, _slots[index].KeyLength);

    internal ReadOnlySpan<byte> ValueAt(int index) => ValueBytes(_slots[index]);

    internal bool IsQuotedAt(int index) => _slots[index].Quoted;

    internal bool IsInterpretedAt(int index) => _slots[index].Interpreted;

    internal string? DecodeUntrustedAt(int index) => DecodeUntrusted(ValueAt(index), IsQuotedAt(index), _strings);

    public static AuditFields Parse(ReadOnlySpan<byte> body) => Parse(body.ToArray());

    /// <param name="body">The record's body, kept (not copied).</param>
    public static AuditFields Parse(byte[] body) => new AuditFields(null).Reset(body, 0, body.Length);

    /// <summary>
    /// Indexes the body at <paramref name="offset"/> in <paramref name="buffer"/> (kept, not copied) in place of what
    /// was indexed before: one instance serves record after record without allocating once it is large enough.
    /// </summary>
    internal AuditFields Reset(byte[] buffer, int offset, int length)
    {
        _body = buffer;
        _count = 0;
        _all = null;
        Index(offset, offset + length, interpreted: false);
        return this;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Index(int from, int to, bool interpreted)
    {
        var s = _body.AsSpan(0, to);
        var i = from;
        while (i < to)
        {
            var c = s[i];
            if (c == EnrichedSeparator)
            {
                interpreted = true;
                i++;
                continue;
            }
            if (c == (byte)' ')
            {
                i++;
                continue;
            }
            var keyStart = i;
            while (i < to && s[i] is not (byte)'=' and not (byte)' ' and not EnrichedSeparator)
                i++;
            if (i >= to || s[i] != (byte)'=')
                continue; // a bare word such as "family" in "SADDR=unknown family": not a field
            var keyLength = i - keyStart;
            i++;
            var (valueStart, valueEnd, next, quote) = ScanValue(s, i, to);
            i = next;
            if (quote == (byte)'\'' && s.Slice(keyStart, keyLength).SequenceEqual("msg"u8))
            {
                Index(valueStart, valueEnd, interpreted);
                continue;
            }
            if (_count == _slots.Length)
                Array.Resize(ref _slots, Math.Max(32, _count * 2)); // room for the longest record seen, kept
            _slots[_count++] = new Slot(keyStart, keyLength, valueStart, valueEnd - valueStart, quote == (byte)'"', interpreted);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int Start, int End, int Next, byte Quote) ScanValue(ReadOnlySpan<byte> s, int i, int to)
    {
        if (i >= to)
            return (i, i, i, 0);
        var open = s[i];
        var close = open switch { (byte)'"' => (byte)'"', (byte)'\'' => (byte)'\'', (byte)'{' => (byte)'}', _ => (byte)0 };
        if (close != 0)
        {
            var end = s[(i + 1)..to].IndexOf(close);
            if (end < 0)
                return (i + 1, to, to, open);
            var stop = i + 1 + end;
            return open == (byte)'{' ? (i, stop + 1, stop + 1, open) : (i + 1, stop, stop + 1, open);
        }
        var j = i;
        while (j < to && s[j] is not (byte)' ' and not EnrichedSeparator)
            j++;
        return (i, j, j, 0);
    }

    private AuditField Materialize(Slot slot) => new(
        Encoding.UTF8.GetString(_body, slot.KeyStart, slot.KeyLength),
        Encoding.UTF8.GetString(_body, slot.ValueStart, slot.ValueLength),
        slot.Quoted, slot.Interpreted);

    /// <summary>The index of the last field of that key (as auditd, the last one wins), or -1.</summary>
    private int IndexOf(string key, bool interpreted)
    {
        for (var n = _count - 1; n >= 0; n--)
        {
            var slot = _slots[n];
            if (slot.KeyLength == key.Length && slot.Interpreted == interpreted && KeyEquals(slot, key))
                return n;
        }
        return -1;
    }

    /// <summary>As <see cref="IndexOf(string, bool)"/>, the key given as its bytes ("pid"u8): what the hot path uses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int IndexOf(ReadOnlySpan<byte> key, bool interpreted)
    {
        var first = key[0];
        for (var n = _count - 1; n >= 0; n--)
        {
            var slot = _slots[n];
            if (slot.KeyLength == key.Length && _body[slot.KeyStart] == first && slot.Interpreted == interpreted
                && _body.AsSpan(slot.KeyStart, slot.KeyLength).SequenceEqual(key))
                return n;
        }
        return -1;
    }

    private bool KeyEquals(Slot slot, string key)
    {
        for (var k = 0; k < key.Length; k++)
        {
            if (_body[slot.KeyStart + k] != key[k])
                return false;
        }
        return true;
    }

    private ReadOnlySpan<byte> ValueBytes(Slot slot) => _body.AsSpan(slot.ValueStart, slot.ValueLength);

    /// <summary>The raw bytes of the last field of that key (not interpreted), as the kernel wrote them.</summary>
    internal bool TryGetRaw(string key, out ReadOnlySpan<byte> value) => RawAt(IndexOf(key, interpreted: false), out value);

    internal bool TryGetRaw(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => RawAt(IndexOf(key, interpreted: false), out value);

    private bool RawAt(int n, out ReadOnlySpan<byte> value)
    {
        value = n < 0 ? default : ValueBytes(_slots[n]);
        return n >= 0;
    }

    /// <summary>An interpreted (ENRICHED) field, such as UID="root".</summary>
    public string? GetInterpreted(string key) => InterpretedAt(IndexOf(key, interpreted: true));

    internal string? GetInterpreted(ReadOnlySpan<byte> key) => InterpretedAt(IndexOf(key, interpreted: true));

    private string? InterpretedAt(int n) => n < 0 ? null : Text(ValueBytes(_slots[n]), _strings);

    /// <summary>The plain value: quotes removed, "(null)" and "?" as null.</summary>
    public string? GetString(string key) => StringAt(IndexOf(key, interpreted: false));

    internal string? GetString(ReadOnlySpan<byte> key) => StringAt(IndexOf(key, interpreted: false));

    private string? StringAt(int n)
    {
        if (n < 0)
            return null;
        var v = ValueBytes(_slots[n]);
        return v.SequenceEqual("(null)"u8) || v.SequenceEqual("?"u8) ? null : Text(v, _strings);
    }

    /// <summary>A field the kernel prints quoted or hex-encoded (comm, exe, cwd, name, proctitle, aN, key).</summary>
    public string? GetUntrusted(string key) => UntrustedAt(IndexOf(key, interpreted: false));

    internal string? GetUntrusted(ReadOnlySpan<byte> key) => UntrustedAt(IndexOf(key, interpreted: false));

    private string? UntrustedAt(int n) => n < 0 ? null : DecodeUntrusted(ValueBytes(_slots[n]), _slots[n].Quoted, _strings);

    /// <summary>The value as text: quoted as it is, hex decoded (once, into a buffer on the stack for short values).</summary>
    internal static string? DecodeUntrusted(ReadOnlySpan<byte> v, bool quoted, StringPool? strings = null)
    {
        if (quoted)
            return Text(v, strings);
        if (v.IsEmpty || v.SequenceEqual("(null)"u8) || v.SequenceEqual("?"u8))
            return null;
        if (!HexField.LooksLikeHex(v))
            return Text(v, strings);
        const int OnStack = 512;
        var decoded = v.Length / 2 <= OnStack ? stackalloc byte[OnStack] : new byte[v.Length / 2];
        return HexField.TryDecode(v, decoded, out var written) ? Text(decoded[..written], strings) : Text(v, strings);
    }

    private static string Text(ReadOnlySpan<byte> utf8, StringPool? strings) =>
        strings is null ? Encoding.UTF8.GetString(utf8) : strings.Get(utf8);

    public long? GetInt64(string key) => Int64At(IndexOf(key, interpreted: false));

    internal long? GetInt64(ReadOnlySpan<byte> key) => Int64At(IndexOf(key, interpreted: false));

    private long? Int64At(int n) =>
        n >= 0 && System.Buffers.Text.Utf8Parser.TryParse(ValueBytes(_slots[n]), out long v, out var used) && used == _slots[n].ValueLength ? v : null;

    public ulong? GetHexUInt64(string key) => HexUInt64At(IndexOf(key, interpreted: false));

    internal ulong? GetHexUInt64(ReadOnlySpan<byte> key) => HexUInt64At(IndexOf(key, interpreted: false));

    private ulong? HexUInt64At(int n) =>
        n >= 0 && System.Buffers.Text.Utf8Parser.TryParse(ValueBytes(_slots[n]), out ulong v, out var used, 'x') && used == _slots[n].ValueLength ? v : null;
}

public sealed record AuditField(string Key, string Value, bool Quoted, bool Interpreted)
{
    public string? DecodeUntrusted() => AuditFields.DecodeUntrusted(Encoding.UTF8.GetBytes(Value), Quoted);
}
