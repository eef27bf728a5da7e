using System.Globalization;
using System.Net;

namespace ImdsWatch.Export;

/// <summary>
/// Spellings of a catalog address that tools accept (inet_aton's numeric forms, IPv6 forms carrying an IPv4
/// address): the finite list a rule language can match where the engine parses any spelling.
/// </summary>
internal static class SpellingVariants
{
    public static IEnumerable<string> ObfuscatedIPv4(IPAddress address)
    {
        var b = address.GetAddressBytes();
        var v = ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        var low16 = (b[2] << 8) | b[3];
        var low24 = (b[1] << 16) | low16;
        string Oct(long n) => "0" + Convert.ToString(n, 8);
        string Hex(long n) => "0x" + n.ToString("x", CultureInfo.InvariantCulture);
        var spellings = new List<string>
        {
            v.ToString(CultureInfo.InvariantCulture),                       // 2852039166
            Hex(v),                                                         // 0xa9fea9fe
            Oct(v),                                                         // 025177524776
            string.Join('.', b.Select(x => Oct(x))),                        // 0251.0376.0251.0376
            string.Join('.', b.Select(x => Hex(x))),                        // 0xa9.0xfe.0xa9.0xfe
            $"{b[0]}.{b[1]}.{low16}",                                       // 169.254.43518
            $"{b[0]}.{low24}",                                              // 169.16689662
            $"::ffff:{b[0] << 8 | b[1]:x}:{low16:x}",                        // ::ffff:a9fe:a9fe
            $"::{b[0] << 8 | b[1]:x}:{low16:x}",                             // ::a9fe:a9fe (IPv4-compatible)
            $"64:ff9b::{b[0] << 8 | b[1]:x}:{low16:x}",                      // NAT64 well-known prefix
        };
        return spellings.Distinct();
    }

    /// <summary>An IPv6 address written out in full, with and without leading zeros.</summary>
    public static IEnumerable<string> LongIPv6(IPAddress address)
    {
        var b = address.GetAddressBytes();
        var groups = Enumerable.Range(0, 8).Select(i => (b[2 * i] << 8) | b[2 * i + 1]).ToList();
        yield return string.Join(':', groups.Select(g => g.ToString("x", CultureInfo.InvariantCulture)));
        yield return string.Join(':', groups.Select(g => g.ToString("x4", CultureInfo.InvariantCulture)));
    }

    /// <summary>The IPv6 addresses that reach an IPv4 address: IPv4-mapped, IPv4-compatible, NAT64.</summary>
    public static IEnumerable<IPAddress> IPv6Carriers(IPAddress v4)
    {
        var b = v4.GetAddressBytes();
        yield return v4.MapToIPv6();
        yield return new IPAddress([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b[0], b[1], b[2], b[3]]);
        yield return new IPAddress([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, b[0], b[1], b[2], b[3]]);
    }

    /// <summary>The kernel's hex encoding of text (audit_log_n_untrustedstring: two upper-case digits a byte).</summary>
    public static string KernelHex(string text) => Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A value's hex forms as spelt and upper-cased, for hex-encoded arguments where case is not folded.</summary>
    public static IEnumerable<string> KernelHexForms(string text)
    {
        yield return KernelHex(text);
        var upper = text.ToUpperInvariant();
        if (upper != text)
            yield return KernelHex(upper);
    }
}
