using System.IO.Compression;
using System.Text;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Tests.Sources;

public sealed class InputResolverTests
{
    private const string Line = "type=EOE msg=audit(1.000:1):\n";

    private static string TempDir() => Directory.CreateTempSubdirectory("imdswatch-input-").FullName;

    [Fact]
    public void Directory_reads_rotated_logs_oldest_first()
    {
        var dir = TempDir();
        foreach (var name in new[] { "audit.log", "audit.log.1", "audit.log.2", "audit.log.10" })
            File.WriteAllText(Path.Combine(dir, name), Line);
        var sources = InputResolver.Resolve([dir], out var errors);
        Assert.Empty(errors);
        Assert.Equal(["audit.log.10", "audit.log.2", "audit.log.1", "audit.log"], sources.Select(s => Path.GetFileName(s.Path!)));
    }

    [Fact]
    public void Directory_skips_files_that_are_not_audit_logs_and_says_so()
    {
        var dir = TempDir();
        File.WriteAllText(Path.Combine(dir, "audit.txt"), Line);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "hello\n");
        var sources = InputResolver.Resolve([dir], out _, out var skipped);
        Assert.Equal("audit.txt", Path.GetFileName(Assert.Single(sources).Path));
        Assert.EndsWith("notes.txt", Assert.Single(skipped), StringComparison.Ordinal);
    }

    [Fact]
    public void Glob_matches_files()
    {
        var dir = TempDir();
        File.WriteAllText(Path.Combine(dir, "a.log"), Line);
        File.WriteAllText(Path.Combine(dir, "b.log"), Line);
        File.WriteAllText(Path.Combine(dir, "c.txt"), Line);
        var sources = InputResolver.Resolve([Path.Combine(dir, "*.log")], out var errors);
        Assert.Empty(errors);
        Assert.Equal(2, sources.Count);
    }

    [Fact]
    public void Missing_path_is_an_error_naming_it()
    {
        InputResolver.Resolve(["/nonexistent/audit.log"], out var errors);
        Assert.Equal("/nonexistent/audit.log: no such file or directory", Assert.Single(errors));
    }

    [Fact]
    public void Gzip_is_recognised_by_its_magic_bytes_whatever_the_name()
    {
        var path = Path.Combine(TempDir(), "audit.log.1");
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
            gz.Write(Encoding.ASCII.GetBytes(Line));
        using var reader = new LineReader(new InputSource(path, path).Open());
        Assert.True(reader.TryReadLine(out var line));
        Assert.Equal(Line.TrimEnd('\n'), Encoding.ASCII.GetString(line));
    }

    [Fact]
    public void Line_reader_handles_crlf_missing_final_newline_and_lines_longer_than_its_buffer()
    {
        var big = new string('x', 300_000);
        var text = "one\r\n" + big + "\nlast";
        using var reader = new LineReader(new MemoryStream(Encoding.ASCII.GetBytes(text)), bufferSize: 1024);
        var lines = new List<string>();
        while (reader.TryReadLine(out var l))
            lines.Add(Encoding.ASCII.GetString(l));
        Assert.Equal(["one", big, "last"], lines);
        Assert.Equal(3, reader.LineNumber);
    }

    [Fact]
    public void A_linked_log_has_the_length_of_its_target_not_of_the_link()
    {
        var dir = TempDir();
        try
        {
            var log = Path.Combine(dir, "audit.log");
            File.WriteAllText(log, string.Concat(Enumerable.Repeat(Line, 1000)));
            var link = Path.Combine(dir, "linked.log");
            File.CreateSymbolicLink(link, log);
            var chained = Path.Combine(dir, "chained.log");
            File.CreateSymbolicLink(chained, link);
            Assert.Equal(Line.Length * 1000, new InputSource(link, link).Length);
            Assert.Equal(Line.Length * 1000, new InputSource(chained, chained).Length);
            Assert.Null(new InputSource("<stdin>", null).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
