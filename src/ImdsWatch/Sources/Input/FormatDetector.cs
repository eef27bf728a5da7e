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
            if (CloudTrailSniffer.LooksLikeCloudTrail(Head(source)))
                return LogFormat.CloudTrail; // any of its shapes, pretty-printed ones too: lines would not tell
            using var reader = new LineReader(source.Open(), bufferSize: 256 * 1024);
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

    private static byte[] Head(InputSource source)
    {
        using var stream = source.Open();
        var head = new byte[CloudTrailSniffer.HeadBytes];
        return head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
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
