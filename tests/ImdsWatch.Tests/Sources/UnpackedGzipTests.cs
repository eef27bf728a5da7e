using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>A .gz is unpacked to an unlinked temporary file and read the fast way, or, without room, by the full parser.</summary>
public sealed class UnpackedGzipTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-unpack-").FullName;
    private readonly string _tmp = Directory.CreateTempSubdirectory("imdswatch-unpack-tmp-").FullName;
    private static readonly string Enriched = Path.Combine(Repo.Samples, "audit-enriched.log");

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(_tmp, recursive: true);
    }

    private string Gzip(byte[] plain, string name = "audit.log.1.gz")
    {
        var path = Path.Combine(_dir, name);
        using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        gz.Write(plain);
        return path;
    }

    private static byte[] Read(UnpackedGzip unpacked)
    {
        var bytes = new byte[unpacked.Length];
        Assert.Equal(bytes.Length, PositionalRead.Fill(unpacked.Handle, bytes, 0));
        return bytes;
    }

    private static string Alerts(ScanResult result) =>
        string.Join('\n', result.Alerts.Select(NdjsonAlertWriter.ToJson));

    [Fact]
    public void A_gzip_unpacks_to_its_bytes_in_a_file_only_its_owner_can_read_and_no_name_is_left()
    {
        var plain = File.ReadAllBytes(Enriched);
        using var unpacked = UnpackedGzip.TryUnpack(Gzip(plain), out var noRoom, directory: _tmp);

        Assert.NotNull(unpacked);
        Assert.Null(noRoom);
        Assert.Null(unpacked.Damage);
        Assert.Equal(plain, Read(unpacked));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp)); // unlinked at once: nothing to leave behind
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(unpacked.Handle));
    }

    [Fact]
    public void A_truncated_gzip_unpacks_to_its_whole_lines_before_the_cut_and_says_it_ends_early()
    {
        var plain = File.ReadAllBytes(Enriched);
        var whole = File.ReadAllBytes(Gzip(plain));
        var cut = Path.Combine(_dir, "cut.gz");
        File.WriteAllBytes(cut, whole[..(whole.Length / 2)]);

        using var unpacked = UnpackedGzip.TryUnpack(cut, out _, directory: _tmp);

        Assert.NotNull(unpacked);
        Assert.Equal(GzipEndCheck.EndedEarlyReason, unpacked.Damage);
        var bytes = Read(unpacked);
        Assert.True(bytes.Length > 0 && bytes.Length < plain.Length);
        Assert.Equal((byte)'\n', bytes[^1]);
        Assert.Equal(plain.AsSpan(0, bytes.Length).ToArray(), bytes);
    }

    [Fact]
    public void Without_room_in_the_temporary_directory_there_is_nothing_unpacked_and_the_reason_says_why()
    {
        var path = Gzip(File.ReadAllBytes(Enriched));
        var unpacked = UnpackedGzip.TryUnpack(path, out var noRoom, _ => UnpackedGzip.Headroom + 1000, _tmp);

        Assert.Null(unpacked);
        Assert.Matches("no room to unpack it in .* needed, .* free", noRoom);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp));
    }

    [Fact]
    public void A_gzip_reads_the_fast_way_with_the_full_parsers_alerts_and_counts()
    {
        var path = Gzip(File.ReadAllBytes(Enriched));
        var inputs = new[] { new InputSource(path, path) };

        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(inputs);
        var fast = new DetectionPipeline(DetectionRules.Default).Scan(inputs);

        Assert.NotEmpty(fast.Alerts);
        Assert.True(fast.RecordsParsed < fast.Records, "read through the prefilter");
        Assert.Equal(Alerts(full), Alerts(fast));
        Assert.Equal((full.Lines, full.Records, full.Events, full.Bytes, full.Detection.Execs, full.Detection.Connects),
            (fast.Lines, fast.Records, fast.Events, fast.Bytes, fast.Detection.Execs, fast.Detection.Connects));
        Assert.Null(fast.Inputs[0].Note);
    }

    [Fact]
    public void Without_room_to_unpack_a_gzip_is_read_by_the_full_parser_between_the_files_read_fast_with_a_note()
    {
        var lines = File.ReadAllLines(Enriched);
        var third = lines.Length / 3;
        string Part(int i) => string.Join('\n', lines.Skip(i * third).Take(i == 2 ? lines.Length : third)) + "\n";
        var oldest = Path.Combine(_dir, "audit.log.2");
        File.WriteAllText(oldest, Part(0));
        var gz = Gzip(Encoding.UTF8.GetBytes(Part(1)));
        var newest = Path.Combine(_dir, "audit.log");
        File.WriteAllText(newest, Part(2));
        var inputs = InputResolver.Resolve([_dir], out _);
        Assert.Equal([oldest, gz, newest], inputs.Select(i => i.Path));

        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(inputs);
        var noRoom = new DetectionPipeline(DetectionRules.Default) { FreeSpace = _ => 0 }.Scan(inputs);

        Assert.Equal(Alerts(full), Alerts(noRoom));
        Assert.Null(noRoom.Inputs[0].Note);
        Assert.Matches("no room to unpack it .*: read with the full parser", noRoom.Inputs[1].Note);
        Assert.Equal(noRoom.Inputs[1].Records, noRoom.Inputs[1].RecordsParsed); // parsed fully
        Assert.True(noRoom.Inputs[2].RecordsParsed < noRoom.Inputs[2].Records); // the file after it, fast again
    }

    [Fact]
    public void A_truncated_gzip_in_a_scan_keeps_what_came_before_and_names_the_file_and_line_without_a_stack_trace()
    {
        var bytes = File.ReadAllBytes(Gzip(File.ReadAllBytes(Enriched)));
        var cut = Path.Combine(_dir, "audit.log.1.gz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length * 2 / 3)]);
        var inputs = new[] { new InputSource(cut, cut) };

        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(inputs);
        var fast = new DetectionPipeline(DetectionRules.Default).Scan(inputs);
        var run = CliRun.Of("scan", "--format", "ndjson", "--no-baseline", cut);

        Assert.NotEmpty(fast.Alerts);
        Assert.Equal(Alerts(full), Alerts(fast));
        Assert.Equal(full.Inputs[0].Unreadable, fast.Inputs[0].Unreadable);
        Assert.Equal(2, run.Exit);
        Assert.Matches(@"audit\.log\.1\.gz: unreadable after line [0-9,]+: the gzip file ends early", run.Err);
        Assert.DoesNotMatch(@"\bat [A-Za-z.]+\(|Exception", run.Err);
    }
}
