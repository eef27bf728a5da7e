using System.Net;
using System.Net.Sockets;

namespace ImdsWatch.Indicators;

/// <summary>
/// Reads an IPv4 address the way inet_aton (glibc, curl, wget, Python's socket) does: one to four parts,
/// each decimal, hex (0x) or octal (leading 0), the last part filling the remaining bytes — so
/// 2852039166, 0xA9FEA9FE, 0251.0376.0251.0376, 169.254.43518 and 0xa9.254.0251.0xfe are all
/// 169.254.169.254. Also folds the IPv6 forms that carry an IPv4 address.
/// </summary>
public static class AddressSpelling
{
    public static bool TryParseIPv4(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        if (text.Length == 0 || text.Length > 64)
            return false;
        if (text[^1] == '.')
            text = text[..^1]; // "169.254.169.254." resolves like the name without the root dot
        Span<ulong> parts = stackalloc ulong[4];
        var count = 0;
        while (true)
        {
            var dot = text.IndexOf('.');
            var part = dot < 0 ? text : text[..dot];
            if (count == 4 || !TryParsePart(part, out parts[count]))
                return false;
            count++;
            if (dot < 0)
                break;
            text = text[(dot + 1)..];
        }
        ulong value;
        switch (count)
        {
            case 1:
                if (parts[0] > 0xFFFFFFFF) return false;
                value = parts[0];
                break;
            case 2:
                if (parts[0] > 0xFF || parts[1] > 0xFFFFFF) return false;
                value = (parts[0] << 24) | parts[1];
                break;
            case 3:
                if (parts[0] > 0xFF || parts[1] > 0xFF || parts[2] > 0xFFFF) return false;
                value = (parts[0] << 24) | (parts[1] << 16) | parts[2];
                break;
            default:
                if (parts[0] > 0xFF || parts[1] > 0xFF || parts[2] > 0xFF || parts[3] > 0xFF) return false;
                value = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3];
                break;
        }
        address = (uint)value;
        return true;
    }

    private static bool TryParsePart(ReadOnlySpan<char> p, out ulong value)
    {
        value = 0;
        if (p.Length == 0)
            return false;
        int radix = 10;
        if (p.Length > 1 && p[0] == '0' && (p[1] is 'x' or 'X'))
        {
            radix = 16;
            p = p[2..];
            if (p.Length == 0)
                return true; // "0x" alone is 0 to inet_aton
        }
        else if (p.Length > 1 && p[0] == '0')
        {
            radix = 8;
            p = p[1..];
        }
        foreach (var c in p)
        {
            int d = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => 99,
            };
            if (d >= radix)
                return false;
            value = value * (ulong)radix + (ulong)d;
            if (value > 0xFFFFFFFFFF)
                return false;
        }
        return true;
    }

    public static IPAddress FromUInt32(uint a) => new([(byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a]);

    /// <summary>True when the text is the plain dotted-quad spelling of the address it denotes.</summary>
    public static bool IsCanonicalIPv4(ReadOnlySpan<char> text, uint address) =>
        text.TrimEnd('.').SequenceEqual(FromUInt32(address).ToString());

    /// <summary>
    /// The IPv4 address an IPv6 address carries to the IPv4 network: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
    /// (::a.b.c.d), and the NAT64 well-known prefix (64:ff9b::a.b.c.d). Otherwise the address itself.
    /// </summary>
    public static IPAddress Fold(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address;
        if (address.IsIPv4MappedToIPv6)
            return address.MapToIPv4();
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        var firstTwelveZero = b[..12].IndexOfAnyExcept((byte)0) < 0;
        var lastFour = b[12..];
        if (firstTwelveZero && (lastFour[0] != 0 || lastFour[1] != 0))
            return new IPAddress(lastFour);
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].IndexOfAnyExcept((byte)0) < 0)
            return new IPAddress(lastFour);
        return address.ScopeId != 0 ? new IPAddress(b) : address;
    }
}
