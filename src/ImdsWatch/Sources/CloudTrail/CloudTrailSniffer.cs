using System.Text;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// Tells CloudTrail from the first bytes of a (decompressed) file, whatever its shape: a Records object (one line
/// or pretty-printed), a top-level array of records (Athena, Lake or console exports), NDJSON, one event, an
/// EventBridge envelope, a Lake query result. Digest files (no eventName) and other JSON logs are not taken.
/// </summary>
public static class CloudTrailSniffer
{
    /// <summary>How much of the head to look at: the first record of any of these shapes fits.</summary>
    public const int HeadBytes = 64 * 1024;

    public static bool LooksLikeCloudTrail(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            head = head[3..];
        var start = head.IndexOfAnyExcept(" \t\r\n"u8);
        if (start < 0 || head[start] is not ((byte)'{' or (byte)'['))
            return false;
        var body = head[(start + 1)..];
        var first = body.IndexOfAnyExcept(" \t\r\n"u8);
        if (head[start] == (byte)'{' && first >= 0 && body[first..].StartsWith("\"Records\""u8))
            return true;
        if (body.IndexOf("\"QueryResultRows\""u8) >= 0 && HasKey(body, "eventName"u8))
            return true;
        return HasKey(body, "eventName"u8) && (HasKey(body, "eventSource"u8) || HasKey(body, "eventTime"u8)) && body.IndexOf("amazonaws.com"u8) >= 0;
    }

    /// <summary>"key" as CloudTrail writes it, or lower-cased as Athena does.</summary>
    private static bool HasKey(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        Span<byte> quoted = stackalloc byte[key.Length + 2];
        quoted[0] = quoted[^1] = (byte)'"';
        key.CopyTo(quoted[1..]);
        if (body.IndexOf(quoted) >= 0)
            return true;
        Ascii.ToLowerInPlace(quoted, out _);
        return body.IndexOf(quoted) >= 0;
    }
}
