using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace ImdsWatch.Indicators;

/// <summary>
/// A fast, allocation-free test on raw bytes: could <see cref="EndpointReferenceFinder"/> find a reference here?
/// It must never say no where the finder would say yes (the prefilter relies on it), so it errs toward yes:
/// non-ASCII or percent-encoded text, any catalog host name or strong path, a run with two colons (IPv6), or a
/// run of labels that spells a catalog address (1–4 labels by '.', 4 groups by '-', or 8 hex digits).
/// </summary>
public sealed class ReferenceCandidates
{
    private readonly HashSet<uint> _v4 = [];
    private readonly List<byte[]> _v6 = [];
    private readonly SearchValues<string> _words;
    private readonly int _minimumWordLength;
    private readonly int _shortestOneLabelSpelling = int.MaxValue;
    private static readonly SearchValues<char> NumberLabelChars = SearchValues.Create("0123456789abcdefABCDEFxX");
    private static readonly SearchValues<byte> TokenBytes = SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:_[]"u8);

    public ReferenceCandidates(IndicatorCatalog catalog)
    {
        foreach (var a in catalog.Addresses)
        {
            if (a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                var b = a.GetAddressBytes();
                var v4 = (uint)((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
                _v4.Add(v4);
                _shortestOneLabelSpelling = Math.Min(_shortestOneLabelSpelling, ShortestOneNumberSpelling(v4));
            }
            else
            {
                _v6.Add(a.GetAddressBytes());
            }
        }
        var all = catalog.Hostnames
            .Concat(catalog.Paths.Where(p => p.Strong).Select(p => p.Prefix.Split('*')[0]))
            .Where(w => w.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        // Text that contains a word contains every shorter word inside it: keep only the shortest (fewer, faster).
        var words = all.Where(w => !all.Any(o => o.Length < w.Length && w.Contains(o, StringComparison.OrdinalIgnoreCase))).ToArray();
        _words = SearchValues.Create(words.Length > 0 ? words : ["\u0000"], StringComparison.OrdinalIgnoreCase);
        _minimumWordLength = words.Length > 0 ? words.Min(w => w.Length) : int.MaxValue;
    }

    /// <summary>The address as one number: decimal, 0x-hex, 0-octal, or the 8 bare hex digits LabelsSpell also reads.</summary>
    private static int ShortestOneNumberSpelling(uint address)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        int[] lengths = [address.ToString(invariant).Length, 2 + address.ToString("x", invariant).Length, 1 + Convert.ToString(address, 8).Length, 8];
        return lengths.Min();
    }

    /// <summary>True when the text might hold a reference; false only when it surely holds none.</summary>
    public bool MayReference(ReadOnlySpan<byte> text) => MayReferenceAsWritten(text) || MayReferenceUnquoted(text);

    private bool MayReferenceAsWritten(ReadOnlySpan<byte> text)
    {
        if (text.Length < 2)
            return text.Length == 1 && text[0] is >= (byte)'0' and <= (byte)'9' && MaySpellAddress(text);
        return HasUnusualBytes(text) || HasWord(text) || MaySpellAddress(text);
    }

    /// <summary>
    /// Shell quoting splices a name or an address out of pieces (<c>169.254.169.'254'</c>, <c>2\54</c>,
    /// <c>/latest/meta-"data"</c>), and the analyzer reads <c>sh -c</c> scripts with quotes and escapes removed: text
    /// with quotes or backslashes is also tested with them taken out. No reference has one of them inside it.
    /// </summary>
    [SkipLocalsInit] // the scratch buffer is written before it is read
    public bool MayReferenceUnquoted(ReadOnlySpan<byte> text)
    {
        if (text.IndexOfAny(ShellQuoting) < 0)
            return false;
        byte[]? rented = null;
        var unquoted = text.Length <= 1024 ? stackalloc byte[text.Length] : (rented = ArrayPool<byte>.Shared.Rent(text.Length));
        try
        {
            var n = 0;
            foreach (var b in text)
            {
                if (!ShellQuoting.Contains(b))
                    unquoted[n++] = b;
            }
            return MayReferenceAsWritten(unquoted[..n]);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static readonly SearchValues<byte> ShellQuoting = SearchValues.Create("'\"\\"u8);

    /// <summary>True when any of the arguments might hold a reference (each is tested as its UTF-8 bytes).</summary>
    [SkipLocalsInit] // the scratch buffer is written before it is read
    public bool MayReference(IReadOnlyList<string> args)
    {
        Span<byte> buffer = stackalloc byte[512];
        for (var i = 0; i < args.Count; i++) // by index: foreach over the interface would allocate an enumerator per exec
        {
            var arg = args[i];
            var bytes = Encoding.UTF8.GetByteCount(arg) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(arg, buffer)] : Encoding.UTF8.GetBytes(arg);
            if (MayReference(bytes))
                return true;
        }
        return false;
    }

    /// <summary>Non-ASCII or percent-encoded text: the finder decodes it, so it may hide anything.</summary>
    public static bool HasUnusualBytes(ReadOnlySpan<byte> text) => text.IndexOfAny(UnusualBytes) >= 0;

    private static readonly SearchValues<byte> UnusualBytes = SearchValues.Create([(byte)'%', .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    /// <summary>Does the text contain a catalog host name or strong path (any case)?</summary>
    [SkipLocalsInit] // scratch buffers are written before they are read
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool HasWord(ReadOnlySpan<byte> text)
    {
        if (text.Length < _minimumWordLength)
            return false;
        char[]? rented = null;
        Span<char> chars = text.Length <= 1024 ? stackalloc char[text.Length] : (rented = ArrayPool<char>.Shared.Rent(text.Length));
        try
        {
            var n = Encoding.ASCII.GetChars(text, chars);
            return chars[..n].IndexOfAny(_words) >= 0;
        }
        finally
        {
            if (rented is not null)
                ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Does a run of the text spell a catalog address (in any inet_aton form, IPv6, or as labels of a name)?</summary>
    [SkipLocalsInit] // scratch buffers are written before they are read
    public bool MaySpellAddress(ReadOnlySpan<byte> text)
    {
        Span<char> buffer = stackalloc char[256];
        var i = 0;
        while (i < text.Length)
        {
            var digit = text[i..].IndexOfAnyInRange((byte)'0', (byte)'9');
            if (digit < 0)
                return false; // every spelling of an address has a digit
            digit += i;
            // The token around the digit: letters, digits and . - : _ [ ]
            var before = text[..digit].LastIndexOfAnyExcept(TokenBytes);
            var start = before + 1;
            var length = text[start..].IndexOfAnyExcept(TokenBytes);
            var end = length < 0 ? text.Length : start + length;
            var token = text[start..end];
            if (token.Length < _shortestOneLabelSpelling && token.IndexOfAny((byte)'.', (byte)'-', (byte)':') < 0)
            {
                // One label (no dot, dash or colon to join several), too short to be any address as one number.
                i = end + 1;
                continue;
            }
            var chars = token.Length <= buffer.Length ? buffer[..token.Length] : new char[token.Length];
            for (var k = 0; k < token.Length; k++)
                chars[k] = (char)token[k];
            // An interpreter reads the code glued to its flag (-c169.254.169.254): the token without the flag too.
            if (TokenMayReference(chars) || (chars.Length > 2 && chars[0] == '-' && char.IsAsciiLetter(chars[1]) && TokenMayReference(chars[2..])))
                return true;
            i = end + 1;
        }
        return false;
    }

    /// <summary>
    /// Is this saddr= hex a metadata address (AF_INET, or AF_INET6 plain, IPv4-mapped, -compatible or NAT64)?
    /// Both byte orders of the family are tried, so it never misses what the full decoder would find.
    /// </summary>
    [SkipLocalsInit] // scratch buffers are written before they are read
    public bool IsMetadataSockaddr(ReadOnlySpan<byte> hex)
    {
        Span<byte> b = stackalloc byte[32];
        var n = Math.Min(hex.Length / 2, 32);
        if (n < 8 || !Sources.Auditd.HexField.TryDecode(hex[..(n * 2)], b, out n))
            return false;
        var le = b[0] | (b[1] << 8);
        var be = (b[0] << 8) | b[1];
        if (le == 2 || be == 2)
            return _v4.Contains((uint)((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]));
        if ((le == 10 || be == 10) && n >= 24)
        {
            var a = b.Slice(8, 16);
            foreach (var v6 in _v6)
            {
                if (a.SequenceEqual(v6))
                    return true;
            }
            var v4 = (uint)((a[12] << 24) | (a[13] << 16) | (a[14] << 8) | a[15]);
            var mapped = a[..10].IndexOfAnyExcept((byte)0) < 0 && ((a[10] == 0xff && a[11] == 0xff) || (a[10] == 0 && a[11] == 0));
            var nat64 = a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4..12].IndexOfAnyExcept((byte)0) < 0;
            return (mapped || nat64) && _v4.Contains(v4);
        }
        return false;
    }

    private bool TokenMayReference(ReadOnlySpan<char> token)
    {
        // Every spelling of an address has a digit (0x…, a9fea9fe, 169…): a token without one only matters as a
        // host name or path, which the word search has already looked for.
        if (token.IndexOfAnyInRange('0', '9') < 0)
            return false;
        if (token.Count(':') >= 2)
            return true; // an IPv6 literal, or host:port pieces: let the finder decide
        var rest = token;
        while (!rest.IsEmpty)
        {
            var cut = rest.IndexOfAny(PieceSeparators); // one search a piece: the token is read once
            var part = cut < 0 ? rest : rest[..cut];
            rest = cut < 0 ? default : rest[(cut + 1)..];
            if (part.Length == 0 || part.IndexOfAnyInRange('0', '9') < 0)
                continue;
            if (LabelsSpell(part, '.'))
                return true;
            foreach (var dotLabel in part.Split('.'))
            {
                var label = part[dotLabel];
                if (label.Contains('-') && LabelsSpell(label, '-'))
                    return true;
            }
        }
        return false;
    }

    /// <summary>Any 1–4 consecutive labels (split by <paramref name="separator"/>) that read as a catalog address.</summary>
    [SkipLocalsInit] // scratch buffers are written before they are read
    private bool LabelsSpell(ReadOnlySpan<char> part, char separator)
    {
        Span<Range> labels = stackalloc Range[16];
        Span<char> dotted = stackalloc char[65];
        var count = part.Split(labels, separator);
        if (count == 16)
            return true; // very many labels: let the finder decide
        for (var first = 0; first < count; first++)
        {
            var label = part[labels[first]];
            if (label.Length == 8 && IsHex(label)
                && uint.TryParse(label, System.Globalization.NumberStyles.HexNumber, null, out var hex) && _v4.Contains(hex))
                return true;
            for (var last = first; last < count && last < first + 4; last++)
            {
                // A label that is no number in any base fails every window that holds it (an empty one may be
                // the root dot of a name, which the parser drops).
                if (part[labels[last]].IndexOfAnyExcept(NumberLabelChars) >= 0)
                    break;
                var span = part[labels[first].Start..labels[last].End];
                if (span.Length > 64)
                    break; // longer than any spelling the parser takes
                scoped ReadOnlySpan<char> text;
                if (separator == '.')
                {
                    text = span;
                }
                else
                {
                    span.Replace(dotted, separator, '.');
                    text = dotted[..span.Length];
                }
                if (AddressSpelling.TryParseIPv4(text, out var a) && _v4.Contains(a))
                    return true;
            }
        }
        return false;
    }

    private static readonly SearchValues<char> PieceSeparators = SearchValues.Create(":[]_");

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiHexDigit(c))
                return false;
        }
        return true;
    }
}
