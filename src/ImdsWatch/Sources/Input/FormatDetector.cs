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
        var head = ArrayPool<byte>.Shared.Rent(CloudTrailSniffer.HeadBytes);
        try
        {
            // One read of the head serves both looks, and a plain file's is one positioned read into a pooled buffer:
            // a folder of rotated logs is detected file by file, twice (the resolver, then the pipeline), and a stream's
            // 64 KB buffers, new at every open, cost 4 of them a file — 52 page faults, ~0.6 ms (docs/performance.md).
            var length = ReadHead(source, head.AsSpan(0, CloudTrailSniffer.HeadBytes), out var whole);
            if (CloudTrailSniffer.LooksLikeCloudTrail(head.AsSpan(0, length)))
                return LogFormat.CloudTrail; // any of its shapes, pretty-printed ones too: lines would not tell
            // The head's complete lines (all of it when it is the whole input); more lines than it holds are read again
            // from the start through a line reader.
            var complete = whole ? length : head.AsSpan(0, length).LastIndexOf((byte)'\n') + 1;
            if (FirstLineIsAudit(head.AsSpan(0, complete)))
                return LogFormat.Auditd; // what the lines would say, without a string for each (40 page faults a file)
            using (var reader = new LineReader(new MemoryStream(head, 0, complete, writable: false), bufferSize: 64 * 1024))
                AddLines(reader, lines, maxLines);
            if (lines.Count < maxLines && !whole)
            {
                lines.Clear();
                using var reader = new LineReader(source.Open(), bufferSize: 64 * 1024); // grows for a longer line
                AddLines(reader, lines, maxLines);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return LogFormat.Unknown;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
        return Detect(lines);
    }

    /// <summary>The first bytes of the input (from its offset, as <see cref="InputSource.Open"/> reads it); <paramref name="whole"/>: they are all of it.</summary>
    private static int ReadHead(InputSource source, Span<byte> head, out bool whole)
    {
        if (source.Path is { } path && FileKind.NotRegular(path) is null) // a FIFO is read as a stream, as before
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> magic = stackalloc byte[2];
            if (!InputSource.IsGzip(magic[..RandomAccess.Read(file, magic, 0)]))
            {
                var offset = Math.Min(source.Offset, RandomAccess.GetLength(file));
                var read = 0;
                int n;
                while (read < head.Length && (n = RandomAccess.Read(file, head[read..], offset + read)) > 0)
                    read += n;
                whole = read < head.Length;
                return read;
            }
        }
        using var stream = source.Open();
        var length = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        whole = length < head.Length;
        return length;
    }

    /// <summary>
    /// The first line that is not blank starts as an audit record does and holds its stamp: <see cref="Detect(IReadOnlyList{string})"/>
    /// answers audit for such lines whatever follows (the formats it looks for first all start with '{').
    /// </summary>
    private static bool FirstLineIsAudit(ReadOnlySpan<byte> head)
    {
        while (!head.IsEmpty)
        {
            var newline = head.IndexOf((byte)'\n');
            var line = newline < 0 ? head : head[..newline];
            head = newline < 0 ? default : head[(newline + 1)..];
            if (newline >= 0 && line.EndsWith("\r"u8))
                line = line[..^1]; // as the line reader gives it
            if (line.IsEmpty || line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0)
                continue;
            return (line.StartsWith("type="u8) || line.StartsWith("node="u8)) && line.IndexOf("audit("u8) >= 0;
        }
        return false;
    }

    private static void AddLines(LineReader reader, List<string> lines, int maxLines)
    {
        while (lines.Count < maxLines && reader.TryReadLine(out var line))
        {
            if (!line.IsEmpty && line.IndexOfAnyExcept((byte)' ', (byte)'\t') >= 0)
                lines.Add(Encoding.UTF8.GetString(line.Length > 64 * 1024 ? line[..(64 * 1024)] : line));
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
