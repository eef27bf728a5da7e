using System.IO.Compression;
using System.Text;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Pipeline;

/// <summary>
/// The full parser's inputs have the rules run on a thread of their own: detection, its alerts, the order of events
/// and of issues are what one thread gives; a rule's failure there ends the scan naming its place and hangs nothing.
/// </summary>
public sealed class EventHandoffTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Execs and connects, every 97th a metadata fetch, and a bad line every 500 events.</summary>
    private string Log(int events, bool gzip = false)
    {
        var text = new StringBuilder();
        for (var i = 0; i < events; i++)
        {
            var serial = (ulong)(i + 1);
            var time = 1700000000 + (i * 0.01);
            if (i % 97 == 5)
                text.Append(Audit.Exec(serial, 500 + i, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"], time: time));
            else if (i % 7 == 3)
                text.Append(Audit.Connect(serial, 500 + i, "/usr/bin/wget", "10.0.0.1", time: time));
            else
                text.Append(Audit.Exec(serial, 500 + i, "/usr/bin/ls", ["ls", "-l"], ppid: 400 + (i % 50), time: time));
            if (i % 500 == 250)
                text.Append("type=SYSCALL msg=audit(broken\n");
        }
        var path = Path.Combine(_dir, gzip ? "audit.log.1.gz" : "audit.log");
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return path;
        }
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
        return path;
    }

    /// <summary>Alerts as NDJSON, every issue, the counts, and the order the rules saw the events in.</summary>
    private static string Everything(string path, long rulesThreadFrom)
    {
        var seen = new StringBuilder();
        var result = new DetectionPipeline(DetectionRules.Default)
        {
            UsePrefilter = false,
            RulesThreadFrom = rulesThreadFrom,
            OnEvent = e => seen.Append(e.Evidence.Line).Append(' '),
        }.Scan([new InputSource(path, path)]);
        var alerts = string.Join('\n', result.Alerts.Select(NdjsonAlertWriter.ToJson));
        var issues = string.Join('\n', result.Issues.Select(i => $"{i.File}:{i.Line} {i.Reason}"));
        return $"{alerts}\n{issues}\nevents {result.Events} execs {result.Detection.Execs} outbound {result.Detection.Connects}\n{seen}";
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rules_on_a_thread_of_their_own_see_and_find_what_they_do_on_one_thread(bool gzip)
    {
        var path = Log(3000, gzip);
        var one = Everything(path, long.MaxValue);
        var two = Everything(path, 0);
        Assert.Contains("MetadataAPIProcess", one, StringComparison.Ordinal);
        Assert.Contains("malformed audit(", one, StringComparison.Ordinal);
        Assert.Equal(one, two);
    }

    [Fact]
    public void Every_sample_gives_the_same_result_with_the_rules_on_a_thread_of_their_own()
    {
        foreach (var sample in Directory.GetFiles(Repo.Samples).Order(StringComparer.Ordinal))
            Assert.Equal(Everything(sample, long.MaxValue), Everything(sample, 0));
    }

    [Fact]
    public void A_rule_that_throws_on_its_thread_ends_the_scan_naming_the_event_file_and_line()
    {
        var path = Log(3000);
        var seen = 0;
        long failedAt = 0;
        var pipeline = new DetectionPipeline(DetectionRules.Default)
        {
            UsePrefilter = false,
            RulesThreadFrom = 0,
            OnEvent = e =>
            {
                if (++seen < 2500)
                    return;
                failedAt = e.Evidence.Line;
                throw new InvalidOperationException("bug in a rule");
            },
        };
        var e = Assert.Throws<ScanFailedException>(() => Within(() => pipeline.Scan([new InputSource(path, path)])));
        Assert.Equal(path, e.File);
        Assert.True(failedAt > 0);
        Assert.Equal(failedAt, e.Line);
        Assert.Equal("bug in a rule", e.InnerException!.Message);
        Assert.Equal(2500, seen); // the rules' thread stopped at the failure
    }

    private static T Within<T>(Func<T> action)
    {
        var task = Task.Run(action);
        Assert.True(Task.WaitAny([task], TimeSpan.FromSeconds(60)) == 0, "the scan hung");
        return task.GetAwaiter().GetResult();
    }

    [Fact]
    public void Only_inputs_of_the_full_parser_large_enough_get_a_thread()
    {
        var path = Log(10);
        var full = new AuditLogSource();
        var fast = new PrefilteredAuditLogSource(DetectionRules.Default.Candidates);
        Assert.True(EventHandoff.IsWorthIt(full, EventHandoff.WorthFrom, EventHandoff.WorthFrom) || Environment.ProcessorCount == 1);
        Assert.False(EventHandoff.IsWorthIt(full, new FileInfo(path).Length, EventHandoff.WorthFrom));
        Assert.False(EventHandoff.IsWorthIt(full, null, EventHandoff.WorthFrom)); // length unknown
        Assert.False(EventHandoff.IsWorthIt(fast, long.MaxValue, EventHandoff.WorthFrom)); // pass two has its own thread
    }
}
