using System.Buffers.Binary;
using System.Buffers.Text;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Decodes the header of one audit line: <c>[node=N ]type=T msg=audit(SEC.MS:SERIAL): body</c>, also when the
/// line was relayed through syslog (<c>... audit: type=1300 audit(...): ...</c>). Allocates only the body copy.
/// </summary>
public sealed class AuditRecordParser
{
    /// <summary>
    /// The last second a stamp may name: 9999-12-31T23:59:59Z, the end of <see cref="DateTimeOffset"/>. The kernel
    /// writes a non-negative time_t; a stamp beyond this is a forged or damaged line, never a real record.
    /// </summary>
    public const long MaxStampSeconds = 253_402_300_799;

    internal const string StampOutOfRange = "audit(...) stamp out of range (before 1970 or after 9999)";

    private readonly Dictionary<int, string> _typeNames = [];
    private readonly Dictionary<int, string> _nodes = [];

    // The node of the record before: nearly every record names the same one, and comparing its bytes costs less
    // than hashing, looking up and checking them (Intern was ~240 instructions a record, 4 % of the full parser's).
    private byte[] _lastNodeBytes = [];
    private string? _lastNode;

    public bool TryParse(ReadOnlySpan<byte> line, int sourceId, long lineNumber, out AuditRecord? record, out string? error) =>
        TryParse(line, sourceId, lineNumber, null, out record, out error);

    /// <summary>As <see cref="TryParse(ReadOnlySpan{byte}, int, long, out AuditRecord?, out string?)"/>, the record
    /// and its body taken from <paramref name="arena"/> (to be released there) when one is given.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal bool TryParse(ReadOnlySpan<byte> line, int sourceId, long lineNumber, AuditRecordArena? arena, out AuditRecord? record, out string? error)
    {
        record = null;
        if (!TryParseHeader(line, out var header, out error))
            return false;
        var typeName = NameOf(header.Type) ?? Intern(_typeNames, line.Slice(header.TypeStart, header.TypeLength));
        var body = line[header.BodyStart..];
        if (!body.IsEmpty && body[^1] is (byte)'\r' or (byte)'\n' or (byte)' ')
            body = body.TrimEnd("\r\n "u8);
        if (arena is null)
        {
            record = new AuditRecord { BodyBuffer = body.ToArray() };
            record.BodyLength = record.BodyBuffer.Length;
        }
        else
        {
            record = arena.Rent(body);
        }
        record.Node = header.NodeLength > 0 ? NodeOf(line.Slice(header.NodeStart, header.NodeLength)) : null;
        record.Type = header.Type >= 0 ? header.Type : AuditRecordType.Parse(typeName);
        record.TypeName = typeName;
        record.EpochMilliseconds = header.EpochMilliseconds;
        record.Serial = header.Serial;
        record.SourceId = sourceId;
        record.Line = lineNumber;
        return true;
    }

    /// <summary>Decodes the header without allocating; <see cref="AuditRecordHeader.Type"/> is -1 for names not in the fast table.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryParseHeader(ReadOnlySpan<byte> line, out AuditRecordHeader header, out string? error)
    {
        error = null;
        if (TryParseCommonHeader(line, out header))
            return true;
        var typeAt = line.IndexOf("type="u8);
        if (typeAt < 0)
        {
            error = "no type= field";
            return false;
        }
        int nodeStart = 0, nodeLength = 0;
        var nodeAt = line[..typeAt].LastIndexOf("node="u8);
        if (nodeAt >= 0)
        {
            nodeStart = nodeAt + 5;
            nodeLength = line[nodeStart..typeAt].TrimEnd((byte)' ').Length;
        }
        var typeStart = typeAt + 5;
        var rest = line[typeStart..];
        var typeEnd = rest.IndexOf((byte)' ');
        if (typeEnd <= 0)
        {
            error = "type= has no value";
            return false;
        }
        var typeSpan = rest[..typeEnd];
        var consumed = typeStart + typeEnd;
        rest = rest[typeEnd..];
        var trimmed = rest.TrimStart((byte)' ');
        consumed += rest.Length - trimmed.Length;
        rest = trimmed;
        if (rest.StartsWith("msg="u8))
        {
            rest = rest[4..];
            consumed += 4;
        }
        if (!rest.StartsWith("audit("u8))
        {
            error = "no audit(...) stamp after type=";
            return false;
        }
        rest = rest[6..];
        consumed += 6;
        var before = rest.Length;
        if (!TryParseStamp(ref rest, out var millis, out var serial, out var outOfRange))
        {
            error = outOfRange ? StampOutOfRange : "malformed audit(seconds.millis:serial) stamp";
            return false;
        }
        consumed += before - rest.Length;
        if (rest.Length > 0 && rest[0] == (byte)':')
        {
            rest = rest[1..];
            consumed++;
        }
        consumed += rest.Length - rest.TrimStart((byte)' ').Length;
        header = new AuditRecordHeader(TypeOf(typeSpan), typeStart, typeEnd, nodeStart, nodeLength, millis, serial, consumed);
        error = null;
        return true;
    }

    /// <summary>
    /// The header as auditd and the kernel write it — [node=NAME ]type=TYPE msg=audit(SECONDS.MMM:SERIAL): — read
    /// with plain loops; anything else (other spacing, prefixes, odd stamps) goes the general way, with the same result.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseCommonHeader(ReadOnlySpan<byte> line, out AuditRecordHeader header)
    {
        header = default;
        int nodeStart = 0, nodeLength = 0, i = 0;
        if (line.StartsWith("node="u8))
        {
            var space = IndexOfSpace(line[5..]);
            if (space <= 0 || (space >= 5 && line.Slice(5, space).IndexOf("type="u8) >= 0))
                return false;
            nodeStart = 5;
            nodeLength = space;
            i = 5 + space + 1;
        }
        if (!line[i..].StartsWith("type="u8))
            return false;
        var typeStart = i + 5;
        var typeLength = IndexOfSpace(line[typeStart..]);
        if (typeLength <= 0)
            return false;
        var p = typeStart + typeLength;
        if (!line[p..].StartsWith(" msg=audit("u8))
            return false;
        p += 11;
        var digits = Digits(line[p..], 15, out var stamp);
        var seconds = (long)stamp;
        p += digits;
        if (digits == 0 || seconds > MaxStampSeconds || p + 5 > line.Length || line[p] != (byte)'.' || line[p + 4] != (byte)':'
            || (uint)(line[p + 1] - '0') > 9 || (uint)(line[p + 2] - '0') > 9 || (uint)(line[p + 3] - '0') > 9)
            return false;
        var millis = ((line[p + 1] - '0') * 100) + ((line[p + 2] - '0') * 10) + (line[p + 3] - '0');
        p += 5;
        digits = Digits(line[p..], 19, out var serial);
        p += digits;
        if (digits == 0 || p >= line.Length || line[p] != (byte)')')
            return false;
        p++;
        if (p < line.Length && line[p] == (byte)':')
            p++;
        while (p < line.Length && line[p] == (byte)' ')
            p++;
        header = new AuditRecordHeader(TypeOf(line.Slice(typeStart, typeLength)), typeStart, typeLength, nodeStart, nodeLength, (seconds * 1000) + millis, serial, p);
        return true;
    }

    /// <summary>
    /// The first space in <paramref name="s"/>, or -1: its first 16 bytes compared at once, since a node's or a type's
    /// name nearly always ends in them (the search is a call, two a line).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int IndexOfSpace(ReadOnlySpan<byte> s)
    {
        if (!Vector128.IsHardwareAccelerated || s.Length < 16)
            return s.IndexOf((byte)' ');
        var spaces = Vector128.Equals(Vector128.Create(s), Vector128.Create((byte)' ')).ExtractMostSignificantBits();
        if (spaces != 0)
            return BitOperations.TrailingZeroCount(spaces);
        var rest = s[16..].IndexOf((byte)' ');
        return rest < 0 ? -1 : 16 + rest;
    }

    /// <summary>
    /// The decimal number at the start of <paramref name="s"/>, of at most <paramref name="max"/> (≤ 19) digits: how many
    /// digits it has. Eight bytes at a time while eight are there: the digits among them found by a mask, converted
    /// together (a stamp's seconds and serial are 10 and 6-10 digits, read for every record, and a pid 1-7: the digit
    /// loops were most of the header's ~580 instructions a line in the full parser).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Digits(ReadOnlySpan<byte> s, int max, out ulong value)
    {
        value = 0;
        var n = 0;
        while (n + 8 <= max && s.Length - n >= 8)
        {
            var chunk = BinaryPrimitives.ReadUInt64LittleEndian(s[n..]);
            // A digit has high nibble 3, and adding 6 keeps it 3; a carry out of a byte that is not a digit (0xFA and up)
            // changes only the bytes after it, which are not counted.
            var other = ((chunk & 0xF0F0F0F0F0F0F0F0UL) ^ 0x3030303030303030UL) | (((chunk + 0x0606060606060606UL) & 0xF0F0F0F0F0F0F0F0UL) ^ 0x3030303030303030UL);
            var count = other == 0 ? 8 : BitOperations.TrailingZeroCount(other) >> 3;
            if (count == 0)
                return n;
            // The digits moved up to end the word, zeros (leading zeros) before them; first digit in the lowest byte.
            chunk = (chunk - 0x3030303030303030UL) << ((8 - count) * 8);
            chunk = ((chunk * 10) + (chunk >> 8)) & 0x00FF00FF00FF00FFUL; // pairs
            chunk = ((chunk * 100) + (chunk >> 16)) & 0x0000FFFF0000FFFFUL; // fours
            chunk = (chunk * 10000) + (chunk >> 32); // eight
            value = (value * PowersOfTen[count]) + (uint)chunk;
            n += count;
            if (count < 8)
                return n;
        }
        while (n < max && n < s.Length && (uint)(s[n] - '0') <= 9)
            value = (value * 10) + (uint)(s[n++] - '0');
        return n;
    }

    private static ReadOnlySpan<ulong> PowersOfTen => [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

    /// <summary>The record types the hot path decides on, without a string.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int TypeOf(ReadOnlySpan<byte> t) => t.Length switch
    {
        7 when t.SequenceEqual("SYSCALL"u8) => AuditRecordType.Syscall,
        6 when t.SequenceEqual("EXECVE"u8) => AuditRecordType.Execve,
        9 when t.SequenceEqual("PROCTITLE"u8) => AuditRecordType.Proctitle,
        8 when t.SequenceEqual("SOCKADDR"u8) => AuditRecordType.SockAddr,
        4 when t.SequenceEqual("PATH"u8) => AuditRecordType.Path,
        3 when t.SequenceEqual("CWD"u8) => AuditRecordType.Cwd,
        3 when t.SequenceEqual("EOE"u8) => AuditRecordType.Eoe,
        10 when t.SequenceEqual("BPRM_FCAPS"u8) => AuditRecordType.BprmFcaps, // with every exec that gains capabilities
        4 when t.SequenceEqual("MMAP"u8) => AuditRecordType.Mmap,
        _ => -1,
    };

    /// <summary>The name of a type <see cref="TypeOf"/> knows, without looking it up.</summary>
    private static string? NameOf(int type) => type switch
    {
        AuditRecordType.Syscall => "SYSCALL",
        AuditRecordType.Execve => "EXECVE",
        AuditRecordType.Proctitle => "PROCTITLE",
        AuditRecordType.SockAddr => "SOCKADDR",
        AuditRecordType.Path => "PATH",
        AuditRecordType.Cwd => "CWD",
        AuditRecordType.Eoe => "EOE",
        AuditRecordType.BprmFcaps => "BPRM_FCAPS",
        AuditRecordType.Mmap => "MMAP",
        _ => null,
    };

    private static bool TryParseStamp(ref ReadOnlySpan<byte> s, out long millis, out ulong serial, out bool outOfRange)
    {
        millis = 0;
        serial = 0;
        outOfRange = false;
        // Digits only: Utf8Parser would take a sign, and a long overflows on 20 digits.
        if (s.Length > 0 && s[0] == (byte)'-')
        {
            outOfRange = true; // time_t before 1970: the kernel never writes one
            return false;
        }
        var used = s.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (used <= 0 || used >= s.Length || s[used] != (byte)'.')
            return false;
        if (!Utf8Parser.TryParse(s[..used], out long seconds, out _) || seconds > MaxStampSeconds)
        {
            outOfRange = true;
            return false;
        }
        s = s[(used + 1)..];
        if (!Utf8Parser.TryParse(s, out uint fraction, out used) || used == 0 || used >= s.Length || s[used] != (byte)':')
            return false;
        // The fraction is milliseconds as three digits; be lenient with other widths.
        var ms = used switch { 1 => fraction * 100, 2 => fraction * 10, 3 => fraction, _ => (uint)(fraction / Math.Pow(10, used - 3)) };
        s = s[(used + 1)..];
        if (!Utf8Parser.TryParse(s, out serial, out used) || used >= s.Length || s[used] != (byte)')')
            return false;
        s = s[(used + 1)..];
        millis = (seconds * 1000) + ms; // cannot overflow: seconds ≤ MaxStampSeconds, ms < 1000
        return true;
    }

    private string NodeOf(ReadOnlySpan<byte> name)
    {
        if (_lastNode is not null && name.SequenceEqual(_lastNodeBytes))
            return _lastNode;
        _lastNode = Intern(_nodes, name);
        _lastNodeBytes = name.ToArray();
        return _lastNode;
    }

    private static string Intern(Dictionary<int, string> table, ReadOnlySpan<byte> value)
    {
        var hash = 17;
        foreach (var b in value)
            hash = (hash * 31) + b;
        if (table.TryGetValue(hash, out var s) && Encoding.UTF8.GetByteCount(s) == value.Length && Matches(s, value))
            return s;
        s = Encoding.UTF8.GetString(value);
        if (table.Count < 4096)
            table[hash] = s;
        return s;
    }

    private static bool Matches(string s, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (s[i] != value[i])
                return false;
        }
        return true;
    }
}
