using System.Buffers.Text;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// Where the fields of a SYSCALL record that pass one reads begin — arch, syscall, success, ppid and pid (the last raw
/// field of each key, as <see cref="AuditFields"/> takes them) and the interpreted SYSCALL= — found in one forward pass
/// over the body, 64 bytes at a time: a field starts after each space or 0x1D separator.
/// </summary>
/// <remarks>
/// The pass tells fields apart as <see cref="AuditFields"/> does only where no quoted value holds a separator and every
/// quote either opens a value or ends one (the kernel's own layout: it hex-encodes any value with a space or a quote).
/// Anything else — a line an editor or a damaged disk made — returns false, and the caller searches field by field.
/// </remarks>
internal struct SyscallFields
{
    private const byte Separator = 0x1D;

    public int Arch;
    public int Syscall;
    public int Success;
    public int Pid;
    public int ParentPid;
    public int Interpreted;

    /// <summary>No field found yet: every position -1.</summary>
    private static SyscallFields None => new() { Arch = -1, Syscall = -1, Success = -1, Pid = -1, ParentPid = -1, Interpreted = -1 };

    public static bool TryScan(ReadOnlySpan<byte> body, out SyscallFields fields) => TryScan(body, out fields, Vector256.IsHardwareAccelerated);

    /// <param name="wide">32 bytes at a time (AVX2) rather than 16: the tests run both.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryScan(ReadOnlySpan<byte> body, out SyscallFields fields, bool wide)
    {
        fields = None;
        if (!Vector128.IsHardwareAccelerated || !fields.Consider(body, 0, interpreted: false))
            return false;
        if (body.Length >= 64)
            return fields.Scan(body, body, wide);
        // A short body is read from a copy padded to one block.
        Span<byte> padded = stackalloc byte[64];
        padded.Clear();
        body.CopyTo(padded);
        return fields.Scan(body, padded, wide);
    }

    /// <param name="data">The body, or a copy padded to 64 bytes: at least one block, read 64 bytes at a time.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Scan(ReadOnlySpan<byte> body, ReadOnlySpan<byte> data, bool wide)
    {
        var rawEnd = int.MaxValue; // the first 0x1D: fields after it are interpreted
        ulong insideCarry = 0; // all ones while a quoted value runs on into the next block
        ulong equalsCarry = 0; // 1 when the block before ended with '=' (a quote at bit 0 then opens a value)
        ulong separatorCarry = 0; // 1 when the block before ended with a separator (a field starts at bit 0)
        var quoteEndsBlock = false; // the block before ended with a closing quote: this one must start with a separator
        ref var start = ref MemoryMarshal.GetReference(data);
        for (var at = 0; at < body.Length; at += 64)
        {
            // The last, partial block is read as the 64 bytes that end the data, its masks shifted to start at `at`.
            var length = Math.Min(64, body.Length - at);
            var load = length == 64 || data.Length > body.Length ? at : data.Length - 64;
            var shift = at - load;
            ref var r = ref Unsafe.Add(ref start, load);
            var nesting = Match(ref r, (byte)'\'', wide) | Match(ref r, (byte)'{', wide);
            if ((nesting >> shift) != 0)
                return false; // msg='…' and {…} values nest fields: the slow path reads them
            var groups = Match(ref r, Separator, wide) >> shift;
            var separators = (Match(ref r, (byte)' ', wide) >> shift) | groups;
            var quotes = Match(ref r, (byte)'"', wide) >> shift;
            var equals = Match(ref r, (byte)'=', wide) >> shift;
            if (quoteEndsBlock && (separators & 1) == 0)
                return false;
            // A quote opens a value only right after '=', and a value that closes is followed by a separator: then,
            // and only then, every separator outside quotes starts a field, as AuditFields reads them.
            var inside = PrefixXor(quotes) ^ insideCarry;
            if ((inside & separators) != 0)
                return false;
            var opening = quotes & inside;
            var closing = quotes & ~inside;
            if ((opening & ~((equals << 1) | equalsCarry)) != 0)
                return false;
            var valid = length == 64 ? ulong.MaxValue : (1UL << length) - 1;
            if (((closing << 1) & ~separators & valid) != 0)
                return false;
            insideCarry = (ulong)((long)inside >> 63);
            equalsCarry = equals >> 63;
            quoteEndsBlock = length == 64 && (closing >> 63) != 0;
            if (rawEnd == int.MaxValue && groups != 0)
                rawEnd = at + BitOperations.TrailingZeroCount(groups);
            // Fields whose first two letters are those of a key read here (arch, syscall, success, pid, ppid, SYSCALL):
            // a few per record, not every field. The last byte is always a candidate: its second letter is further on.
            var first = Match(ref r, (byte)'a', wide) | Match(ref r, (byte)'s', wide) | Match(ref r, (byte)'p', wide) | Match(ref r, (byte)'S', wide);
            var second = Match(ref r, (byte)'r', wide) | Match(ref r, (byte)'y', wide) | Match(ref r, (byte)'u', wide)
                | Match(ref r, (byte)'i', wide) | Match(ref r, (byte)'p', wide) | Match(ref r, (byte)'Y', wide);
            var keys = ((first >> shift) & (second >> shift >> 1)) | (1UL << 63);
            var starts = ((separators << 1) | separatorCarry) & keys & valid;
            separatorCarry = separators >> 63;
            for (; starts != 0; starts &= starts - 1)
            {
                var p = at + BitOperations.TrailingZeroCount(starts);
                if (!Consider(body, p, interpreted: p > rawEnd))
                    return false;
            }
        }
        return true;
    }

    /// <summary>
    /// pid and ppid of a SYSCALL record — and success, with <paramref name="withSuccess"/> — as <see cref="AuditFields"/>
    /// takes them (the last raw field of each key), found without reading every field: the last "pid=" of the body is the
    /// pid field and the field before it "ppid=" (the kernel writes them side by side), the only "success=" is the
    /// success field, and no quote, brace or 0x1D separator comes before them, so the full parser reads fields there
    /// exactly where the spaces are. A later "pid=" or "success=" anywhere — in a quoted value, in a nested msg='…' —
    /// would have been seen, so these are the last of their keys. arch, syscall and the interpreted SYSCALL= are not read.
    /// </summary>
    /// <remarks>
    /// One pass, 32 bytes at a time, finds every "pid=" and "success=" at once: each '=' whose third byte before is 'p'
    /// or seventh is 's' (a few a record: ppid, pid, success, syscall); then one search for an unplain byte up to the
    /// values read. Three searches of the whole body did the same before. Anything else returns false, and the caller
    /// reads the record with <see cref="TryScan(ReadOnlySpan{byte}, out SyscallFields)"/>.
    /// </remarks>
    public static bool TryFindIds(ReadOnlySpan<byte> body, bool withSuccess, out SyscallFields fields) =>
        Vector256.IsHardwareAccelerated ? TryFindIds<Wide>(body, withSuccess, out fields) : TryFindIds<Narrow>(body, withSuccess, out fields);

    /// <typeparam name="TBlock">How a block is compared: in one 32-byte vector (AVX2) or two of 16; the tests run both.</typeparam>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool TryFindIds<TBlock>(ReadOnlySpan<byte> body, bool withSuccess, out SyscallFields fields)
        where TBlock : struct, IKeyBlock
    {
        fields = None;
        // The kernel's record starts with arch=: no key read here ends in its first seven bytes, so the blocks, which
        // look seven bytes back, start after them.
        if (body.Length < KeyBlock + 7 || !Vector128.IsHardwareAccelerated || !body.StartsWith("arch="u8))
            return false;
        ref var start = ref MemoryMarshal.GetReference(body);
        var keys = new KeySearch();
        var last = body.Length - KeyBlock;
        var at = 7;
        for (; at < last; at += KeyBlock)
            keys.Block(ref start, at, TBlock.KeyEnds(ref Unsafe.Add(ref start, at)));
        // The last block is read as the 32 bytes that end the body, its mask shifted to start at `at`.
        keys.Block(ref start, at, TBlock.KeyEnds(ref Unsafe.Add(ref start, last)) >> (at - last));
        var (pid, success) = (keys.Pid, keys.Success);
        if (pid < 1 || body[pid - 1] != (byte)' ')
            return false;
        var before = body[..(pid - 1)];
        var parent = before.LastIndexOf((byte)' ') + 1;
        if (!before[parent..].StartsWith("ppid="u8))
            return false;
        var end = Math.Min(body.Length, pid + 5); // a value's first byte tells whether it is quoted
        if (withSuccess && success >= 0)
        {
            if (body[success - 1] != (byte)' ' || keys.Successes > 1)
                return false;
            fields.Success = success + 8;
            end = Math.Max(end, Math.Min(body.Length, success + 9));
        }
        // Up to the values read (their first bytes included), every space separates two fields: no value there is quoted,
        // nests others or is interpreted.
        if (body[..end].IndexOfAny(Unplain) >= 0)
            return false;
        fields.Pid = pid + 4;
        fields.ParentPid = parent + 5;
        return true;
    }

    private const int KeyBlock = 32;

    /// <summary>Bytes after which a space may lie inside a value, or a field be interpreted rather than raw.</summary>
    private static readonly System.Buffers.SearchValues<byte> Unplain = System.Buffers.SearchValues.Create("\"'{\u001d"u8);

    /// <summary>What <see cref="TryFindIds{TBlock}"/> has seen so far.</summary>
    private struct KeySearch()
    {
        private const uint PidKey = 0x3D64_6970; // "pid=", little-endian
        private const ulong SuccessKey = 0x3D73_7365_6363_7573; // "success="

        public int Pid = -1; // where the last "pid=" starts
        public int Success = -1; // where the first "success=" starts
        public int Successes;

        /// <summary>Notes the keys whose '=' <paramref name="keys"/> marks, from position <paramref name="at"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Block(ref byte body, int at, ulong keys)
        {
            for (; keys != 0; keys &= keys - 1)
            {
                var equals = at + BitOperations.TrailingZeroCount(keys);
                if (Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref body, equals - 3)) == PidKey)
                {
                    Pid = equals - 3;
                }
                else if (Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref body, equals - 7)) == SuccessKey)
                {
                    Success = Successes == 0 ? equals - 7 : Success;
                    Successes++;
                }
            }
        }
    }

    /// <summary>
    /// A bit for each of the 32 bytes at a position that is an '=' with 'p' three bytes before it or 's' seven before (the
    /// ends of "pid=" and "success=", among a few others). Reads from seven bytes before the position.
    /// </summary>
    internal interface IKeyBlock
    {
        static abstract ulong KeyEnds(ref byte r);
    }

    /// <summary>One 32-byte vector.</summary>
    internal readonly struct Wide : IKeyBlock
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong KeyEnds(ref byte r) =>
            (Vector256.Equals(Vector256.LoadUnsafe(ref r), Vector256.Create((byte)'='))
                & (Vector256.Equals(Vector256.LoadUnsafe(ref Unsafe.Subtract(ref r, 3)), Vector256.Create((byte)'p'))
                    | Vector256.Equals(Vector256.LoadUnsafe(ref Unsafe.Subtract(ref r, 7)), Vector256.Create((byte)'s')))).ExtractMostSignificantBits();
    }

    /// <summary>Two 16-byte vectors.</summary>
    internal readonly struct Narrow : IKeyBlock
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong KeyEnds(ref byte r) => Half(ref r) | (Half(ref Unsafe.Add(ref r, 16)) << 16);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong Half(ref byte r) =>
            (Vector128.Equals(Vector128.LoadUnsafe(ref r), Vector128.Create((byte)'='))
                & (Vector128.Equals(Vector128.LoadUnsafe(ref Unsafe.Subtract(ref r, 3)), Vector128.Create((byte)'p'))
                    | Vector128.Equals(Vector128.LoadUnsafe(ref Unsafe.Subtract(ref r, 7)), Vector128.Create((byte)'s')))).ExtractMostSignificantBits();
    }

    /// <summary>pid and ppid as numbers: false when the pid cannot be read (ppid 0 then, or when it cannot be).</summary>
    public readonly bool TryReadIds(ReadOnlySpan<byte> body, out int pid, out int ppid)
    {
        ppid = TryReadInt(body, ParentPid, out var parent) ? parent : 0;
        return TryReadInt(body, Pid, out pid);
    }

    /// <summary>
    /// The number that starts the value at <paramref name="start"/>, as <see cref="Utf8Parser"/> reads it: up to nine
    /// digits (every pid) read here, anything else — a sign, ten digits or more, no digit — by the parser.
    /// </summary>
    private static bool TryReadInt(ReadOnlySpan<byte> body, int start, out int value)
    {
        value = 0;
        if (start < 0)
            return false;
        var n = AuditRecordParser.Digits(body[start..], 9, out var digits);
        if (n > 0 && (start + n == body.Length || (uint)(body[start + n] - '0') > 9))
        {
            value = (int)digits;
            return true;
        }
        return Utf8Parser.TryParse(Value(body, start), out value, out _);
    }

    /// <summary>Whether the value at <paramref name="start"/> is "no" (a failed call's success).</summary>
    public static bool IsNo(ReadOnlySpan<byte> body, int start) =>
        start >= 0 && body[start..].StartsWith("no"u8) && (body.Length == start + 2 || body[start + 2] is (byte)' ' or Separator);

    /// <summary>The value of the field whose value starts at <paramref name="start"/> (empty when there is none).</summary>
    public static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> body, int start)
    {
        if (start < 0)
            return default;
        var value = body[start..];
        var end = value.IndexOfAny((byte)' ', Separator);
        return end < 0 ? value : value[..end];
    }

    /// <summary>Notes a field that starts at <paramref name="s"/>; false for a quoted value of a key read here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Consider(ReadOnlySpan<byte> body, int s, bool interpreted)
    {
        if (s >= body.Length)
            return true;
        var field = body[s..];
        var at = -1;
        switch (field[0])
        {
            case (byte)'a' when !interpreted && field.StartsWith("arch="u8):
                Arch = at = s + 5;
                break;
            case (byte)'s' when !interpreted && field.StartsWith("syscall="u8):
                Syscall = at = s + 8;
                break;
            case (byte)'s' when !interpreted && field.StartsWith("success="u8):
                Success = at = s + 8;
                break;
            case (byte)'p' when !interpreted && field.StartsWith("pid="u8):
                Pid = at = s + 4;
                break;
            case (byte)'p' when !interpreted && field.StartsWith("ppid="u8):
                ParentPid = at = s + 5;
                break;
            case (byte)'S' when interpreted && field.StartsWith("SYSCALL="u8):
                Interpreted = at = s + 8;
                break;
        }
        return at < 0 || at >= body.Length || body[at] != (byte)'"';
    }

    /// <summary>A bit for each of the 64 bytes at <paramref name="r"/> that equals <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Match(ref byte r, byte value, bool wide)
    {
        if (wide && Vector256.IsHardwareAccelerated)
        {
            var c = Vector256.Create(value);
            return Vector256.Equals(Vector256.LoadUnsafe(ref r), c).ExtractMostSignificantBits()
                | ((ulong)Vector256.Equals(Vector256.LoadUnsafe(ref r, 32), c).ExtractMostSignificantBits() << 32);
        }
        var n = Vector128.Create(value);
        return Vector128.Equals(Vector128.LoadUnsafe(ref r), n).ExtractMostSignificantBits()
            | ((ulong)Vector128.Equals(Vector128.LoadUnsafe(ref r, 16), n).ExtractMostSignificantBits() << 16)
            | ((ulong)Vector128.Equals(Vector128.LoadUnsafe(ref r, 32), n).ExtractMostSignificantBits() << 32)
            | ((ulong)Vector128.Equals(Vector128.LoadUnsafe(ref r, 48), n).ExtractMostSignificantBits() << 48);
    }

    /// <summary>Bit i is the parity of the bits 0..i: set inside a quoted value (its opening quote included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong PrefixXor(ulong x)
    {
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        x ^= x << 16;
        x ^= x << 32;
        return x;
    }
}
