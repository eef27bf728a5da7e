using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// The kernel hex-encodes an untrusted string when it holds a byte &lt; 0x21 or &gt; 0x7e or a '"'
/// (kernel/audit.c, audit_string_contains_control); otherwise it is printed in double quotes.
/// </summary>
public static class HexField
{
    private static readonly SearchValues<byte> NotUpperHex = SearchValues.Create("0123456789ABCDEFabcdef"u8);

    public static bool LooksLikeHex(ReadOnlySpan<byte> value) =>
        value.Length >= 2 && (value.Length & 1) == 0 && value.IndexOfAnyExcept(NotUpperHex) < 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool TryDecode(ReadOnlySpan<byte> hex, Span<byte> destination, out int written)
    {
        written = 0;
        if ((hex.Length & 1) != 0 || destination.Length < hex.Length / 2)
            return false;
        for (var i = 0; i < hex.Length; i += 2)
        {
            var hi = Nibble(hex[i]);
            var lo = Nibble(hex[i + 1]);
            if ((hi | lo) < 0)
                return false;
            destination[written++] = (byte)((hi << 4) | lo);
        }
        return true;
    }

    public static byte[]? DecodeToBytes(ReadOnlySpan<byte> hex)
    {
        var bytes = new byte[hex.Length / 2];
        return TryDecode(hex, bytes, out _) ? bytes : null;
    }

    /// <summary>Decodes hex to text. Invalid UTF-8 becomes U+FFFD, as a viewer would show it.</summary>
    public static string? DecodeToString(ReadOnlySpan<byte> hex)
    {
        var bytes = DecodeToBytes(hex);
        return bytes is null ? null : Encoding.UTF8.GetString(bytes);
    }

    private static int Nibble(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };
}
