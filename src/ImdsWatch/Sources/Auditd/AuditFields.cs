using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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

    // Lookups by key: an open-addressing table of slot index + 1 (0: empty) on a hash of the key's first eight bytes
    // and whether it is interpreted, built at the first lookup after an index of a record of more than eight fields
    // (records read field by field, EXECVE, never pay for it; short ones are searched) and holding the last field of
    // each key, as auditd takes it. Beside each entry, the key's first eight bytes: a key of up to eight bytes (every
    // key the normalizer asks for) is told apart from another by one comparison. Its arrays are kept from record to record.
    private const int MinTableSize = 64;
    private const int LinearUpTo = 8;
    private int[] _table = new int[MinTableSize];
    private ulong[] _keys = new ulong[MinTableSize];
    private int _tableMask;
    private bool _tableBuilt;

    /// <summary>
    /// A field's place in the body, 16 bytes: records are parsed by the ten thousand in a scan. Written field by field
    /// in its array and read by reference: a copy made on the stack and moved as one 16-byte value stalled on every
    /// field (store forwarding), a third of the index's time in a profile.
    /// </summary>
    private struct Slot
    {
        public int KeyStart;
        public int KeyLength;
        public int ValueStart;
        private int _valueLengthAndFlags;

        public readonly int ValueLength => _valueLengthAndFlags >>> 2;
        public readonly bool Quoted => (_valueLengthAndFlags & 1) != 0;
        public readonly bool Interpreted => (_valueLengthAndFlags & 2) != 0;

        public void Set(int keyStart, int keyLength, int valueStart, int valueLength, bool quoted, bool interpreted)
        {
            KeyStart = keyStart;
            KeyLength = keyLength;
            ValueStart = valueStart;
            _valueLengthAndFlags = (valueLength << 2) | (quoted ? 1 : 0) | (interpreted ? 2 : 0);
        }
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
        _tableBuilt = false;
        var delimiters = new Delimiters(buffer.AsSpan(0, offset + length));
        Index(ref delimiters, offset, offset + length, interpreted: false);
        return this;
    }

    /// <summary>
    /// Finds the fields of body[from..to): the ends of keys and of unquoted values come from <paramref name="delimiters"/>
    /// (64 bytes compared at a time), quoted and braced values end at their closing byte (a vectorized search).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Index(ref Delimiters delimiters, int from, int to, bool interpreted)
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
            i = delimiters.Next(i, to);
            if (i >= to || s[i] != (byte)'=')
                continue; // a bare word such as "family" in "SADDR=unknown family": not a field
            var keyLength = i - keyStart;
            i++;
            var quote = ScanValue(ref delimiters, s, i, to, out var valueStart, out var valueEnd, out i);
            if (quote == (byte)'\'' && keyLength == 3 && s.Slice(keyStart, 3).SequenceEqual("msg"u8))
            {
                Index(ref delimiters, valueStart, valueEnd, interpreted);
                continue;
            }
            if (_count == _slots.Length)
                Array.Resize(ref _slots, Math.Max(32, _count * 2)); // room for the longest record seen, kept
            _slots[_count++].Set(keyStart, keyLength, valueStart, valueEnd - valueStart, quote == (byte)'"', interpreted);
        }
    }

    /// <summary>The value that starts at <paramref name="i"/>: where it starts and ends, where the next field may start, and its quote (0: none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte ScanValue(ref Delimiters delimiters, ReadOnlySpan<byte> s, int i, int to, out int start, out int end, out int next)
    {
        if (i >= to)
        {
            start = end = next = i;
            return 0;
        }
        var open = s[i];
        var close = open switch { (byte)'"' => (byte)'"', (byte)'\'' => (byte)'\'', (byte)'{' => (byte)'}', _ => (byte)0 };
        if (close != 0)
        {
            int stop;
            if (open == (byte)'"')
            {
                // In the block's mask: a dozen a SYSCALL (comm, exe, key, the interpreted names), each a call otherwise.
                stop = delimiters.NextQuote(i + 1, to);
            }
            else
            {
                var length = s[(i + 1)..to].IndexOf(close);
                stop = length < 0 ? to : i + 1 + length;
            }
            if (stop >= to)
            {
                (start, end, next) = (i + 1, to, to);
                return open;
            }
            (start, end, next) = open == (byte)'{' ? (i, stop + 1, stop + 1) : (i + 1, stop, stop + 1);
            return open;
        }
        // An unquoted value ends at a space or the separator; an '=' inside it (a user message's text) does not end it.
        var j = delimiters.Next(i, to);
        while (j < to && s[j] == (byte)'=')
            j = delimiters.Next(j + 1, to);
        (start, end, next) = (i, j, j);
        return 0;
    }

    /// <summary>
    /// Where the next space, '=' or 0x1D separator is, and the next double quote, from masks of those bytes 64 at a
    /// time (most fields are a few bytes long: one mask serves several of them). Reads only inside the span it is given.
    /// </summary>
    private ref struct Delimiters(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _block = -64;
        private ulong _mask;
        private ulong _quotes;

        /// <summary>The first delimiter at or after <paramref name="p"/> and before <paramref name="to"/>, or <paramref name="to"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Next(int p, int to)
        {
            while (p < to)
            {
                var offset = p - _block;
                if ((uint)offset >= 64)
                {
                    Load(p);
                    offset = 0;
                }
                var m = _mask >> offset;
                if (m != 0)
                    return Math.Min(to, p + BitOperations.TrailingZeroCount(m));
                p = _block + 64;
            }
            return to;
        }

        /// <summary>The first double quote at or after <paramref name="p"/> and before <paramref name="to"/>, or <paramref name="to"/>.</summary>
        /// <remarks>
        /// <see cref="Next"/>'s loop over the other mask, written out: one method taking the mask as a flag cost the full
        /// parser 3 % more instructions (2,037 M → 2,098 M on 100 MB, the flag not folded where both are inlined).
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int NextQuote(int p, int to)
        {
            while (p < to)
            {
                var offset = p - _block;
                if ((uint)offset >= 64)
                {
                    Load(p);
                    offset = 0;
                }
                var m = _quotes >> offset;
                if (m != 0)
                    return Math.Min(to, p + BitOperations.TrailingZeroCount(m));
                p = _block + 64;
            }
            return to;
        }

        private void Load(int at)
        {
            _block = at;
            var length = _data.Length;
            if (length - at >= 64)
            {
                _mask = Match(ref Unsafe.Add(ref MemoryMarshal.GetReference(_data), at), out _quotes);
            }
            else if (length >= 64)
            {
                // the 64 bytes that end the data, shifted to start at `at`: nothing past the end is read or set
                var shift = at - (length - 64);
                _mask = Match(ref Unsafe.Add(ref MemoryMarshal.GetReference(_data), length - 64), out var quotes) >> shift;
                _quotes = quotes >> shift;
            }
            else
            {
                ulong mask = 0, quotes = 0;
                for (var k = at; k < length; k++)
                {
                    if (_data[k] is (byte)' ' or (byte)'=' or EnrichedSeparator)
                        mask |= 1UL << (k - at);
                    else if (_data[k] == (byte)'"')
                        quotes |= 1UL << (k - at);
                }
                _mask = mask;
                _quotes = quotes;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Match(ref byte r, out ulong quotes)
        {
            if (Vector256.IsHardwareAccelerated)
            {
                var a = Vector256.LoadUnsafe(ref r);
                var b = Vector256.LoadUnsafe(ref r, 32);
                var quote = Vector256.Create((byte)'"');
                quotes = Vector256.Equals(a, quote).ExtractMostSignificantBits() | ((ulong)Vector256.Equals(b, quote).ExtractMostSignificantBits() << 32);
                return Of(a).ExtractMostSignificantBits() | ((ulong)Of(b).ExtractMostSignificantBits() << 32);
            }
            ulong mask = 0;
            quotes = 0;
            for (var k = 0; k < 64; k += 16)
            {
                var v = Vector128.LoadUnsafe(ref r, (nuint)k);
                quotes |= (ulong)Vector128.Equals(v, Vector128.Create((byte)'"')).ExtractMostSignificantBits() << k;
                mask |= (ulong)Of(v).ExtractMostSignificantBits() << k;
            }
            return mask;
        }

        private static Vector256<byte> Of(Vector256<byte> v) =>
            Vector256.Equals(v, Vector256.Create((byte)' ')) | Vector256.Equals(v, Vector256.Create((byte)'=')) | Vector256.Equals(v, Vector256.Create(EnrichedSeparator));

        private static Vector128<byte> Of(Vector128<byte> v) =>
            Vector128.Equals(v, Vector128.Create((byte)' ')) | Vector128.Equals(v, Vector128.Create((byte)'=')) | Vector128.Equals(v, Vector128.Create(EnrichedSeparator));
    }

    private AuditField Materialize(in Slot slot) => new(
        Encoding.UTF8.GetString(_body, slot.KeyStart, slot.KeyLength),
        Encoding.UTF8.GetString(_body, slot.ValueStart, slot.ValueLength),
        slot.Quoted, slot.Interpreted);

    /// <summary>The index of the last field of that key (as auditd, the last one wins), or -1.</summary>
    [SkipLocalsInit]
    private int IndexOf(string key, bool interpreted)
    {
        if (key.Length <= 64 && Ascii.IsValid(key))
        {
            Span<byte> bytes = stackalloc byte[key.Length];
            Ascii.FromUtf16(key, bytes, out _);
            return IndexOf(bytes, interpreted);
        }
        for (var n = _count - 1; n >= 0; n--)
        {
            ref readonly var slot = ref _slots[n];
            if (slot.KeyLength == key.Length && slot.Interpreted == interpreted && KeyEquals(slot, key))
                return n;
        }
        return -1;
    }

    /// <summary>As <see cref="IndexOf(string, bool)"/>, the key given as its bytes ("pid"u8): what the hot path uses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int IndexOf(ReadOnlySpan<byte> key, bool interpreted)
    {
        if (_count <= LinearUpTo)
            return IndexOfLinear(key, interpreted);
        if (!_tableBuilt)
            BuildTable();
        var packed = Pack(key);
        for (var i = (int)Hash(packed, interpreted) & _tableMask; ; i = (i + 1) & _tableMask)
        {
            var entry = _table[i];
            if (entry == 0)
                return -1;
            if (_keys[i] == packed)
            {
                ref readonly var slot = ref _slots[entry - 1];
                if (slot.KeyLength == key.Length && slot.Interpreted == interpreted
                    && (key.Length <= 8 || _body.AsSpan(slot.KeyStart, slot.KeyLength).SequenceEqual(key)))
                    return entry - 1;
            }
        }
    }

    /// <summary>The last field of the key, searched from the end: records of a few fields (CWD, PATH, SOCKADDR).</summary>
    private int IndexOfLinear(ReadOnlySpan<byte> key, bool interpreted)
    {
        for (var n = _count - 1; n >= 0; n--)
        {
            ref readonly var slot = ref _slots[n];
            if (slot.KeyLength == key.Length && slot.Interpreted == interpreted && _body.AsSpan(slot.KeyStart, slot.KeyLength).SequenceEqual(key))
                return n;
        }
        return -1;
    }

    /// <summary>Every field into the table, at least half of it empty; a later field of a key takes its place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BuildTable()
    {
        var size = Math.Max(MinTableSize, (int)BitOperations.RoundUpToPowerOf2((uint)_count * 2));
        if (size > _table.Length)
        {
            _table = new int[size];
            _keys = new ulong[size];
        }
        else
        {
            Array.Clear(_table, 0, size);
        }
        _tableMask = size - 1;
        for (var n = 0; n < _count; n++)
        {
            ref readonly var slot = ref _slots[n];
            var key = _body.AsSpan(slot.KeyStart, slot.KeyLength);
            var packed = Pack(key);
            for (var i = (int)Hash(packed, slot.Interpreted) & _tableMask; ; i = (i + 1) & _tableMask)
            {
                var entry = _table[i];
                if (entry == 0)
                {
                    _table[i] = n + 1;
                    _keys[i] = packed;
                    break;
                }
                ref readonly var other = ref _slots[entry - 1];
                if (_keys[i] == packed && other.KeyLength == slot.KeyLength && other.Interpreted == slot.Interpreted
                    && (key.Length <= 8 || _body.AsSpan(other.KeyStart, other.KeyLength).SequenceEqual(key)))
                {
                    _table[i] = n + 1;
                    break;
                }
            }
        }
        _tableBuilt = true;
    }

    /// <summary>The key's first eight bytes (fewer: zeros above them), read without touching a byte past its end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Pack(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8)
            return BinaryPrimitives.ReadUInt64LittleEndian(key);
        if (key.Length >= 4) // two reads that overlap put each byte at its own place
            return BinaryPrimitives.ReadUInt32LittleEndian(key) | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(key[^4..]) << ((key.Length - 4) * 8));
        if (key.Length >= 2)
            return BinaryPrimitives.ReadUInt16LittleEndian(key) | ((ulong)key[^1] << ((key.Length - 1) * 8));
        return key.Length == 1 ? key[0] : 0UL;
    }

    /// <summary>
    /// A multiplicative hash of a key's first eight bytes and whether it is interpreted; the high bytes folded in
    /// first, since the bits taken from the product depend only on those below them (cap_fp, cap_fi, cap_fe).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ulong packed, bool interpreted)
    {
        var x = packed ^ (packed >> 29) ^ (interpreted ? 0x5555_0000_0000_0000UL : 0);
        return (uint)((x * 0x9E3779B97F4A7C15UL) >> 32);
    }

    private bool KeyEquals(in Slot slot, string key)
    {
        for (var k = 0; k < key.Length; k++)
        {
            if (_body[slot.KeyStart + k] != key[k])
                return false;
        }
        return true;
    }

    private ReadOnlySpan<byte> ValueBytes(in Slot slot) => _body.AsSpan(slot.ValueStart, slot.ValueLength);

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

    /// <summary>
    /// The field as a number: plain digits (pid, uid, ses: a dozen an exec) eight at a time, anything else (a sign,
    /// more than 18 digits) by <see cref="System.Buffers.Text.Utf8Parser"/>, which reads plain digits the same.
    /// </summary>
    private long? Int64At(int n)
    {
        if (n < 0)
            return null;
        var v = ValueBytes(_slots[n]);
        if (v.Length is > 0 and <= 18 && AuditRecordParser.Digits(v, 18, out var digits) == v.Length)
            return (long)digits;
        return System.Buffers.Text.Utf8Parser.TryParse(v, out long parsed, out var used) && used == v.Length ? parsed : null;
    }

    public ulong? GetHexUInt64(string key) => HexUInt64At(IndexOf(key, interpreted: false));

    internal ulong? GetHexUInt64(ReadOnlySpan<byte> key) => HexUInt64At(IndexOf(key, interpreted: false));

    private ulong? HexUInt64At(int n) =>
        n >= 0 && System.Buffers.Text.Utf8Parser.TryParse(ValueBytes(_slots[n]), out ulong v, out var used, 'x') && used == _slots[n].ValueLength ? v : null;
}

public sealed record AuditField(string Key, string Value, bool Quoted, bool Interpreted)
{
    public string? DecodeUntrusted() => AuditFields.DecodeUntrusted(Encoding.UTF8.GetBytes(Value), Quoted);
}
