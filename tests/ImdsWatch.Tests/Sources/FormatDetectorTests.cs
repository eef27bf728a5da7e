using System.Text;
using CsCheck;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Tests.Sources;

/// <summary>
/// Detecting a file's format reads its head once, and answers audit from the first line's bytes: always what the
/// line-by-line rule (<see cref="FormatDetector.Detect(IReadOnlyList{string})"/>) says of the file's first lines.
/// </summary>
public sealed class FormatDetectorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-detect-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_file_is_detected_as_its_first_lines_say()
    {
        string[] pieces =
        [
            "\n", "\r\n", " ", "\t", "\r", "type=SYSCALL msg=audit(1.000:1): pid=1", "node=vm type=EXECVE msg=audit(1.000:2): a0=\"x\"",
            "type=", "node=", "audit(", "{\"Records\":[", "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"event\":{\"kind\":\"event\"}}",
            "Nov 24 10:00:00 host sshd[1]: Accepted publickey", "1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"x\"",
            "hello", "{\"eventSource\":\"sts.amazonaws.com\",\"eventName\":\"GetCallerIdentity\"}",
        ];
        Gen.Int[0, pieces.Length - 1].Array[0, 40].Sample(picks =>
        {
            var text = string.Concat(picks.Select(p => pieces[p]));
            var path = Path.Combine(_dir, Guid.NewGuid().ToString("N")); // samples run side by side
            File.WriteAllText(path, text);
            Assert.Equal(ByLines(path, 20), FormatDetector.Detect(new InputSource(path, path)));
        }, iter: 2_000);
    }

    [Theory]
    [InlineData(200)] // a head of long lines holds fewer than the lines asked for: they are read again through a stream
    [InlineData(70_000)] // the first line is longer than the head
    public void Lines_beyond_the_head_are_read_as_before(int lineLength)
    {
        var path = Path.Combine(_dir, "long");
        var line = "{\"message\":\"" + new string('x', lineLength) + "\"}";
        File.WriteAllText(path, string.Concat(Enumerable.Repeat(line + "\n", 400)) + "type=SYSCALL msg=audit(1.000:1): pid=1\n");
        Assert.Equal(ByLines(path, 1000), FormatDetector.Detect(new InputSource(path, path), maxLines: 1000));
        Assert.Equal(ByLines(path, 20), FormatDetector.Detect(new InputSource(path, path)));
    }

    [Fact]
    public void A_checkpoint_offset_is_where_detection_starts_as_where_reading_does()
    {
        var path = Path.Combine(_dir, "offset");
        var head = "{\"Records\":[]}\n";
        File.WriteAllText(path, head + "type=SYSCALL msg=audit(1.000:1): pid=1\n");
        Assert.Equal(LogFormat.CloudTrail, FormatDetector.Detect(new InputSource(path, path)));
        Assert.Equal(LogFormat.Auditd, FormatDetector.Detect(new InputSource(path, path) { Offset = head.Length }));
    }

    /// <summary>CloudTrail by its head's shape, else the first lines of the file as the line reader gives them, judged by the rule on lines.</summary>
    private static LogFormat ByLines(string path, int maxLines)
    {
        var bytes = File.ReadAllBytes(path);
        if (CloudTrailSniffer.LooksLikeCloudTrail(bytes.AsSpan(0, Math.Min(bytes.Length, CloudTrailSniffer.HeadBytes))))
            return LogFormat.CloudTrail;
        var lines = new List<string>();
        using var reader = new LineReader(File.OpenRead(path), bufferSize: 64 * 1024);
        while (lines.Count < maxLines && reader.TryReadLine(out var line))
        {
            if (!line.IsEmpty && line.IndexOfAnyExcept((byte)' ', (byte)'\t') >= 0)
                lines.Add(Encoding.UTF8.GetString(line.Length > 64 * 1024 ? line[..(64 * 1024)] : line));
        }
        return FormatDetector.Detect(lines);
    }
}
