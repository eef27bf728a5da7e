using System.Security.Cryptography;
using System.Text;

namespace ImdsWatch.Export;

/// <summary>Rule ids that stay the same across runs and machines: UUID version 5 (RFC 9562) of the rule's name.</summary>
internal static class StableId
{
    /// <summary>imdswatch's namespace for rule ids: fixed once, so every id depends on the rule name alone.</summary>
    private static readonly byte[] Namespace = Convert.FromHexString("8f4e2c1a7b3d5e6f9a0b1c2d3e4f5a6b");

    public static string For(string name) => For(Namespace, name);

    /// <summary>UUIDv5 of a name in a namespace given as its 16 bytes in network order.</summary>
    internal static string For(byte[] ns, string name)
    {
        var input = new byte[ns.Length + Encoding.UTF8.GetByteCount(name)];
        ns.CopyTo(input, 0);
        Encoding.UTF8.GetBytes(name, input.AsSpan(ns.Length));
#pragma warning disable CA5350 // RFC 9562 defines version 5 with SHA-1; the id names a rule, it protects nothing
        var hash = SHA1.HashData(input);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        var hex = Convert.ToHexStringLower(hash.AsSpan(0, 16));
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }
}
