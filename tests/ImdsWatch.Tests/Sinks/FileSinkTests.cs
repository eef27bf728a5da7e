using System.Text.Json;
using ImdsWatch.Sinks;

namespace ImdsWatch.Tests.Sinks;

public sealed class FileSinkTests
{
    private static List<string> Ids(string file) =>
        File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("imds").GetProperty("alert_id").GetString()!).ToList();

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void The_file_sink_rotates_by_size_keeps_its_old_files_in_order_and_drops_only_the_oldest()
    {
        using var dir = new TestAlerts.TempDir();
        var path = Path.Combine(dir.Path, "alerts", "alerts.ndjson");
        var settings = new SinkSettings { Kind = SinkKind.File, Target = path, Name = "file", MaxFileBytes = 4096, MaxFiles = 2 };
        using (var sink = new FileSink(settings))
        {
            for (var n = 1; n <= 60; n++)
                sink.Emit(TestAlerts.Make(n));
            sink.Complete();
        }

        Assert.False(File.Exists(path + ".3"));
        Assert.True(File.Exists(path + ".2"));
        var files = new[] { path + ".2", path + ".1", path }.Where(File.Exists).ToList(); // oldest first; the current file is made on the next alert after a rotation
        foreach (var f in files)
        {
            Assert.True(new FileInfo(f).Length <= 4096 + 2048, $"{f}: {new FileInfo(f).Length} bytes"); // rotated once past the size
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f));
        }
        var kept = files.SelectMany(Ids).ToList();
        var expectedTail = Enumerable.Range(61 - kept.Count, kept.Count).Select(n => $"alert{n:D4}").ToList();
        Assert.Equal(expectedTail, kept); // in order, none twice, the newest kept, only the oldest gone
        Assert.Equal("alert0060", Ids(files[^1])[^1]);
        Assert.True(kept.Count < 60);
    }
}
