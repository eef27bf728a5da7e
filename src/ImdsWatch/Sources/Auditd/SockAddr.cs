using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace ImdsWatch.Sources.Auditd;

public enum SockAddrFamily
{
    Unknown,
    Unix,
    Inet,
    Inet6,
    Netlink,
    Other,
}

/// <summary>A decoded SOCKADDR saddr= value.</summary>
public sealed record SockAddr(SockAddrFamily Family, int FamilyNumber, IPAddress? Address, int? Port, string? UnixPath, string? Problem)
{
    private const int AfUnix = 1, AfInet = 2, AfInet6 = 10, AfNetlink = 16;

    /// <summary>
    /// Decodes the hex sockaddr the kernel logs (a copy of the caller's buffer, so it may be short or carry
    /// junk after the address). The family is in host byte order: little-endian unless
    /// <paramref name="bigEndian"/> says otherwise; when the arch is unknown a family that only reads
    /// right big-endian (00 02) is taken as such.
    /// </summary>
    public static SockAddr DecodeHex(ReadOnlySpan<byte> hex, bool? bigEndian = null)
    {
        var bytes = HexField.DecodeToBytes(hex);
        if (bytes is null)
            return new SockAddr(SockAddrFamily.Unknown, -1, null, null, null, "saddr is not hex");
        return FromBytes(bytes, bigEndian);
    }

    public static SockAddr FromBytes(byte[] b, bool? bigEndian = null)
    {
        if (b.Length < 2)
            return new SockAddr(SockAddrFamily.Unknown, -1, null, null, null, "saddr shorter than the family field");
        var le = BinaryPrimitives.ReadUInt16LittleEndian(b);
        var be = BinaryPrimitives.ReadUInt16BigEndian(b);
        int family = bigEndian switch
        {
            true => be,
            false => le,
            null => IsKnown(le) ? le : IsKnown(be) ? be : le,
        };
        switch (family)
        {
            case AfInet:
                if (b.Length < 8)
                    return new SockAddr(SockAddrFamily.Inet, family, null, null, null, "AF_INET saddr shorter than 8 bytes");
                return new SockAddr(SockAddrFamily.Inet, family, new IPAddress(b.AsSpan(4, 4)),
                    BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(2)), null, null);
            case AfInet6:
                if (b.Length < 24)
                    return new SockAddr(SockAddrFamily.Inet6, family, null, null, null, "AF_INET6 saddr shorter than 24 bytes");
                var scope = b.Length >= 28 ? BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)) : 0;
                var address = new IPAddress(b.AsSpan(8, 16), scope);
                return new SockAddr(SockAddrFamily.Inet6, family, address,
                    BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(2)), null, null);
            case AfUnix:
                return new SockAddr(SockAddrFamily.Unix, family, null, null, ReadUnixPath(b.AsSpan(2)), null);
            case AfNetlink:
                return new SockAddr(SockAddrFamily.Netlink, family, null, null, null, null);
            case 0:
                return new SockAddr(SockAddrFamily.Unknown, 0, null, null, null, null);
            default:
                return new SockAddr(SockAddrFamily.Other, family, null, null, null, null);
        }
    }

    /// <summary>
    /// True when <see cref="DecodeHex"/> would give an address for this saddr (inet with 8 bytes, inet6 with 24), told
    /// without decoding it: pass one counts the connects it skips with it.
    /// </summary>
    internal static bool HasAddress(ReadOnlySpan<byte> hex, bool? bigEndian)
    {
        if ((hex.Length & 1) != 0 || hex.Length < 4 || hex.IndexOfAnyExcept(HexDigits) >= 0)
            return false;
        Span<byte> head = stackalloc byte[2];
        HexField.TryDecode(hex[..4], head, out _);
        var le = head[0] | (head[1] << 8);
        var be = (head[0] << 8) | head[1];
        var family = bigEndian switch
        {
            true => be,
            false => le,
            null => IsKnown(le) ? le : IsKnown(be) ? be : le,
        };
        return family switch
        {
            AfInet => hex.Length >= 16,
            AfInet6 => hex.Length >= 48,
            _ => false,
        };
    }

    private static readonly System.Buffers.SearchValues<byte> HexDigits = System.Buffers.SearchValues.Create("0123456789ABCDEFabcdef"u8);

    private static bool IsKnown(int family) => family is AfUnix or AfInet or AfInet6 or AfNetlink;

    private static string ReadUnixPath(ReadOnlySpan<byte> path)
    {
        if (path.Length > 0 && path[0] == 0)
        {
            // Abstract socket: a leading NUL, the name runs to the end of the given length.
            var name = path[1..];
            var end = name.IndexOf((byte)0);
            return "@" + Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
        }
        var nul = path.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? path : path[..nul]);
    }
}
