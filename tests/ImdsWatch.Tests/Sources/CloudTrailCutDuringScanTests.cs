using System.Globalization;
using System.Text;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>
/// A CloudTrail file cut short while a scan reads it is one damaged input, as a cut log of any other format is: the
/// calls read before the cut count and the other files are read (scan then names the file and exits 2, as for any
/// damaged input) — it no longer ends the whole scan.
/// </summary>
public sealed class CloudTrailCutDuringScanTests : IDisposable
{
    private const int Calls = 30_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-trail-cut-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A day's file of <see cref="Calls"/> ordinary calls (~10 MB): more than the reader hands over before the rules see the first.</summary>
    private string WriteTrail(string name, int calls)
    {
        var path = Path.Combine(_dir, name);
        var start = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero);
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        w.Write("{\"Records\":[");
        for (var i = 0; i < calls; i++)
        {
            if (i > 0)
                w.Write(',');
            w.Write(Trail.Call("GetObject", "10.0.0.5", start.AddSeconds(i).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), id: $"call-{name}-{i}"));
        }
        w.Write("]}");
        return path;
    }

    [Fact]
    public void A_cloudtrail_file_cut_during_the_scan_is_reported_unreadable_and_the_other_files_are_still_read()
    {
        var cut = WriteTrail("cut.json", Calls);
        var other = WriteTrail("other.json", 2_000);
        var audit = Path.Combine(Repo.Samples, "audit-enriched.log");
        var cutDone = false;
        var pipeline = new DetectionPipeline(DetectionRules.Default)
        {
            Workers = 1, // one file at a time: the cut file's reader waits on the rules when the first call reaches them
            OnEvent = e =>
            {
                if (!cutDone && e is ApiCall)
                {
                    cutDone = true;
                    using var f = new FileStream(cut, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                    f.SetLength(100_000);
                }
            },
        };

        var result = pipeline.Scan([new InputSource(audit, audit), new InputSource(cut, cut), new InputSource(other, other)]);

        Assert.True(cutDone);
        Assert.Matches(@"^unreadable after [0-9,]+ record\(s\), [0-9,]+ bytes: the file was cut short while it was read \([0-9,]+ bytes when the scan began, 100,000 at its end\): what was cut was not scanned$",
            result.Inputs[1].Unreadable);
        Assert.Null(result.Inputs[0].Unreadable);
        Assert.Null(result.Inputs[2].Unreadable);
        Assert.InRange(result.CloudTrail!.Records, 2_001, Calls + 1_999); // the other file whole, the cut one in part
        Assert.NotEmpty(result.Alerts); // the audit log's alerts are all there
    }
}
