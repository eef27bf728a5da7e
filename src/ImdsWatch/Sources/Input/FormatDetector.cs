using System.Buffers;
using System.Text;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Ecs;
using ImdsWatch.Sources.Syslog;
using ImdsWatch.Sources.Web;

namespace ImdsWatch.Sources.Input;

/// <summary>Picks the reader for a file from its first bytes and lines, whatever its name (gzip is looked through).</summary>
public static class FormatDetector
{
    public static LogFormat Detect(InputSource source, int maxLines = 20)
    {
        var lines = new List<string>();
        try
        {
            if (HeadLooksLikeCloudTrail(source))
                return LogFormat.CloudTrail; // any of its shapes, pretty-printed ones too: lines would not tell
            using var reader = new LineReader(source.Open(), bufferSize: 64 * 1024); // grows for a longer line
            while (lines.Count < maxLines && reader.TryReadLine(out var line))
            {
                if (!line.IsEmpty && line.IndexOfAnyExcept((byte)' ', (byte)'\t') >= 0)
                    lines.Add(Encoding.UTF8.GetString(line.Length > 64 * 1024 ? line[..(64 * 1024)] : line));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return LogFormat.Unknown;
        }
        return Detect(lines);
    }

    private static bool HeadLooksLikeCloudTrail(InputSource source)
    {
        var head = ArrayPool<byte>.Shared.Rent(CloudTrailSniffer.HeadBytes);
        try
        {
            using var stream = source.Open();
            var length = stream.ReadAtLeast(head.AsSpan(0, CloudTrailSniffer.HeadBytes), CloudTrailSniffer.HeadBytes, throwOnEndOfStream: false);
            return CloudTrailSniffer.LooksLikeCloudTrail(head.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    public static LogFormat Detect(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0)
            return LogFormat.Unknown;
        var first = lines[0].TrimStart();
        if (first.StartsWith("{\"Records\"", StringComparison.Ordinal) || (first.StartsWith('{') && lines.Any(l => l.Contains("\"eventSource\"", StringComparison.Ordinal) && l.Contains("\"eventName\"", StringComparison.Ordinal))))
            return LogFormat.CloudTrail;
        if (first.StartsWith('{') && lines.Any(EcsEventReader.LooksLikeEcs))
            return LogFormat.Ecs;
        if (lines.Any(l => (l.StartsWith("type=", StringComparison.Ordinal) || l.StartsWith("node=", StringComparison.Ordinal)) && l.Contains("audit(", StringComparison.Ordinal)))
            return LogFormat.Auditd;
        if (lines.Any(WebAccessLogReader.LooksLikeAccessLog))
            return LogFormat.WebAccess;
        if (lines.Any(SyslogParser.LooksLikeSyslog))
            return LogFormat.Syslog;
        if (lines.Any(l => l.Contains("type=", StringComparison.Ordinal) && l.Contains("audit(", StringComparison.Ordinal)))
            return LogFormat.Auditd;
        return LogFormat.Unknown;
    }
}
