namespace ImdsWatch.Sources.Input;

/// <summary>Tells an audit log from other files by its first lines, whatever its name (gzip is looked through).</summary>
public static class AuditLogSniffer
{
    public static bool LooksLikeAuditLog(InputSource source, int maxLines = 20)
    {
        try
        {
            using var reader = new LineReader(source.Open(), bufferSize: 64 * 1024);
            for (var i = 0; i < maxLines && reader.TryReadLine(out var line); i++)
            {
                if (line.IndexOf("type="u8) >= 0 && line.IndexOf("audit("u8) >= 0)
                    return true;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return false;
        }
        return false;
    }
}
