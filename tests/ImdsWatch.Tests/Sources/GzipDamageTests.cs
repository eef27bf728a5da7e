using System.IO.Compression;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>A cut-off or damaged .gz is an input error naming the file and the line reached, after what it held was read.</summary>
public sealed class GzipDamageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-gz-").FullName;
    private static readonly string Sample = Path.Combine(Repo.Root, "samples", "audit-raw.log.gz");
    private static readonly string Enriched = Path.Combine(Repo.Root, "samples", "audit-enriched.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int AlertLines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    [Fact]
    public void A_truncated_gz_is_an_error_naming_the_file_and_line_and_the_other_paths_are_still_scanned()
    {
        var bytes = File.ReadAllBytes(Sample);
        var cut = Path.Combine(_dir, "audit.log.1.gz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length * 2 / 3)]);

        var whole = CliRun.Of("scan", "--format", "ndjson", "--no-baseline", Enriched);
        var run = CliRun.Of("scan", "--format", "ndjson", "--no-baseline", cut, Enriched);

        Assert.Equal(2, run.Exit);
        Assert.Matches(@"audit\.log\.1\.gz: unreadable after line [0-9,]+: the gzip file ends early", run.Err);
        Assert.True(AlertLines(run.Out) > AlertLines(whole.Out), "the readable part of the cut file was scanned, and the other file too");
    }

    [Fact]
    public void Damaged_gzip_data_is_reported_with_the_file_not_as_a_bare_decompressor_message()
    {
        var bytes = File.ReadAllBytes(Sample);
        bytes.AsSpan(20_000, 16).Fill(0xff);
        var damaged = Path.Combine(_dir, "damaged.gz");
        File.WriteAllBytes(damaged, bytes);

        var run = CliRun.Of("scan", "--format", "ndjson", "--no-baseline", damaged, Enriched);

        Assert.Equal(2, run.Exit);
        Assert.Matches(@"damaged\.gz: unreadable after line [0-9,]+: damaged gzip data", run.Err);
        Assert.True(AlertLines(run.Out) > 0);
    }

    [Fact]
    public void A_whole_gz_and_a_gz_of_two_members_read_without_an_error()
    {
        var text = File.ReadAllLines(Enriched);
        var twoMembers = Path.Combine(_dir, "two.gz");
        using (var file = File.Create(twoMembers))
        {
            foreach (var half in new[] { text[..(text.Length / 2)], text[(text.Length / 2)..] })
            {
                using var gz = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true);
                using var writer = new StreamWriter(gz);
                foreach (var line in half)
                    writer.Write(line + "\n");
            }
        }

        var plain = CliRun.Of("scan", "--format", "ndjson", "--no-baseline", Enriched);
        var split = CliRun.Of("scan", "--format", "ndjson", "--no-baseline", twoMembers);
        var sample = CliRun.Of("scan", "--format", "ndjson", "--no-baseline", Sample);

        Assert.Equal(0, split.Exit);
        Assert.Equal(0, sample.Exit);
        Assert.DoesNotContain("unreadable", split.Err + sample.Err, StringComparison.Ordinal);
        Assert.Equal(AlertLines(plain.Out), AlertLines(split.Out));
    }
}
