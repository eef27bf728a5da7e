using System.Text;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Sources;

/// <summary>
/// A file cut short or rewritten while a scan reads it: the scan keeps what it read, and the input is reported as
/// damaged with the line reached (scan: exit 2, like a cut .gz), never a quiet partial result. The cut is made by
/// the test from the scan's progress callback, at a known point of the read, with and without the prefilter.
/// </summary>
public sealed class TruncatedDuringScanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-cut-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>An attack at the start, ~24 MB of ordinary execs, an attack at the end.</summary>
    private string WriteLog()
    {
        var path = Path.Combine(_dir, "audit.log");
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        ulong serial = 100;
        w.Write(Exec(serial++, 4000, "/usr/bin/curl", ["curl", "-s", Week.Creds], time: 1_700_000_000));
        for (var i = 0; w.BaseStream.Length < 24 << 20; i++)
            w.Write(Exec(serial++, 5000 + (i % 20_000), "/usr/bin/ls", ["ls", "-la", "/var/tmp/some/where/else"], time: 1_700_000_001 + (i * 0.001)));
        w.Write(Exec(serial, 4001, "/usr/bin/curl", ["curl", "-s", Week.Creds], time: 1_700_000_900));
        return path;
    }

    private static ScanResult ScanWhile(string path, bool prefilter, Action<string> change)
    {
        var changed = false;
        var pipeline = new DetectionPipeline(DetectionRules.Default)
        {
            UsePrefilter = prefilter,
            PrefilterBlockSize = 1 << 20,
            Workers = 2,
            Progress = (read, _) =>
            {
                if (!changed && read > 0 && read < (20 << 20))
                {
                    changed = true;
                    change(path);
                }
            },
        };
        var result = pipeline.Scan([new InputSource(path, path)]);
        Assert.True(changed, "the progress callback never ran mid-read");
        return result;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_file_cut_short_during_the_scan_is_reported_with_the_line_reached_and_what_was_read_is_kept(bool prefilter)
    {
        var path = WriteLog();
        var result = ScanWhile(path, prefilter, p =>
        {
            using var f = new FileStream(p, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            f.SetLength(1 << 20);
        });

        var damage = result.Inputs[0].Unreadable;
        Assert.NotNull(damage);
        Assert.Matches(@"^unreadable after line [0-9,]+: the file was cut short while it was read \(25,[0-9,]+ bytes when the scan began, 1,048,576 at its end\): what was cut was not scanned$", damage);
        Assert.Single(result.Alerts); // the attack before the cut; the one after it was never read
        Assert.Equal(1_700_000_000, result.Alerts[0].Timestamp.ToUnixTimeSeconds());
    }

    [Fact]
    public void A_file_rewritten_from_its_start_during_the_scan_is_reported()
    {
        var path = WriteLog();
        var result = ScanWhile(path, prefilter: false, p =>
        {
            // copytruncate, then the daemon writes on: longer than before, other first bytes
            var fresh = Exec(9, 7000, "/usr/bin/true", ["true"], time: 1_700_001_000);
            using var f = new FileStream(p, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            var bytes = Encoding.UTF8.GetBytes(fresh);
            while (f.Length < 26 << 20)
                f.Write(bytes);
        });
        Assert.Contains("the file was rewritten from its start while it was read", result.Inputs[0].Unreadable, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_only_grows_during_the_scan_is_not_damage()
    {
        var path = WriteLog();
        var result = ScanWhile(path, prefilter: false, p => File.AppendAllText(p, Exec(99_999, 4002, "/usr/bin/true", ["true"], time: 1_700_000_950)));
        Assert.Null(result.Inputs[0].Unreadable);
        Assert.Equal(2, result.Alerts.Count);
    }
}
