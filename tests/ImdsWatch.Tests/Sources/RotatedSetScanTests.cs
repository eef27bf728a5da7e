using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>
/// auditd's rotated logs (audit.log.N … audit.log, oldest first) are read as one prefiltered scan: the same alerts as
/// the full parser, and as the files joined into one, also when a process's ancestors are in the file before.
/// </summary>
public sealed partial class RotatedSetScanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-rotated-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const double Start = 1_700_000_000;

    /// <summary>Short-lived processes of a busy host: nothing the prefilter keeps.</summary>
    private static string Noise(ulong fromSerial, int count, int fromPid) =>
        string.Concat(Enumerable.Range(0, count).Select(i =>
            Audit.Exec(fromSerial + (ulong)i, fromPid + i, "/usr/bin/true", ["true"], ppid: 1, tty: "(none)", time: Start + ((fromSerial + (ulong)i) * 0.01))));

    /// <summary>
    /// A shell started in audit.log.1 (and noise after it), then in audit.log the curl it runs, fetching credentials:
    /// the shell is the curl's parent, and the alert names it as an ancestor only if its exec was kept.
    /// </summary>
    private static (string Older, string Newer) AttackAcrossTheRotation()
    {
        var older = Audit.Exec(100, 5000, "/usr/bin/bash", ["bash", "/opt/steal.sh"], ppid: 4000, tty: "(none)", time: Start + 1)
            + Noise(101, 400, 6000);
        var newer = Noise(501, 100, 7000)
            + Audit.Exec(601, 5001, "/usr/bin/curl", ["curl", "-s", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"], ppid: 5000, tty: "(none)", time: Start + 6.01)
            + Audit.Connect(602, 5001, "/usr/bin/curl", "169.254.169.254", ppid: 5000, time: Start + 6.02)
            + Noise(603, 50, 8000);
        return (older, newer);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private string WriteGzip(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(text));
        return path;
    }

    /// <summary>The alerts as NDJSON, without where the evidence is (file and line differ between a set and one file).</summary>
    private static string Alerts(IReadOnlyList<InputSource> inputs, bool prefilter, int blockSize = 0)
    {
        var pipeline = blockSize > 0
            ? new DetectionPipeline(DetectionRules.Default) { UsePrefilter = prefilter, PrefilterBlockSize = blockSize }
            : new DetectionPipeline(DetectionRules.Default) { UsePrefilter = prefilter };
        return string.Join('\n', pipeline.Scan(inputs).Alerts.Select(a => EvidencePlace().Replace(NdjsonAlertWriter.ToJson(a), "")));
    }

    private static string Counts(ScanResult r) =>
        $"lines {r.Lines}, records {r.Records}, events {r.Events}, late {r.LateRecords}, issues {r.IssueCount}, "
        + $"execs {r.Detection.Execs}, outbound {r.Detection.Connects}, to metadata {r.Detection.MetadataConnects}";

    private static IReadOnlyList<InputSource> Resolve(string path) => InputResolver.Resolve([path], out _);

    [Fact]
    public void An_attack_whose_parent_exec_is_in_the_older_file_keeps_its_ancestry_as_in_the_joined_file()
    {
        var (older, newer) = AttackAcrossTheRotation();
        Write("set/audit.log.1", older);
        Write("set/audit.log", newer);
        var joined = Write("joined/audit.log", older + newer);

        var set = Resolve(Path.Combine(_dir, "set"));
        Assert.Equal(["audit.log.1", "audit.log"], set.Select(s => Path.GetFileName(s.Path!)));
        var fast = Alerts(set, prefilter: true);
        Assert.Contains("\"command_line\":\"bash /opt/steal.sh\"", fast, StringComparison.Ordinal); // the parent, from audit.log.1
        Assert.Equal(Alerts([new InputSource(joined, joined)], prefilter: true), fast);
        Assert.Equal(Alerts(set, prefilter: false), fast);
    }

    /// <summary>An empty log gives pass one no block to read: its threads, kept for the set, were never started (a crash once).</summary>
    [Fact]
    public void Empty_files_alone_or_in_a_set_scan_as_the_full_parser_reads_them()
    {
        var (older, _) = AttackAcrossTheRotation();
        var empty = Write("empty/audit.log", "");
        Write("set/audit.log.2", "");
        Write("set/audit.log.1", older);
        Write("set/audit.log", "");
        foreach (var inputs in new[] { [new InputSource(empty, empty)], Resolve(Path.Combine(_dir, "set")) })
        {
            var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(inputs);
            var fast = new DetectionPipeline(DetectionRules.Default).Scan(inputs);
            Assert.Equal(Counts(full), Counts(fast));
            Assert.Equal(Alerts(inputs, prefilter: false), Alerts(inputs, prefilter: true));
        }
    }

    [Fact]
    public void A_rotated_set_gives_the_full_parsers_counts_and_only_the_files_it_has()
    {
        var (older, newer) = AttackAcrossTheRotation();
        Write("set/audit.log.2", Noise(1, 99, 3000));
        Write("set/audit.log.1", older);
        Write("set/audit.log", newer);
        var set = Resolve(Path.Combine(_dir, "set"));

        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(set);
        var fast = new DetectionPipeline(DetectionRules.Default).Scan(set);

        Assert.True(fast.RecordsParsed < fast.Records / 4, "the noise was skipped");
        Assert.Equal(Counts(full), Counts(fast));
        Assert.Equal(full.Inputs.Select(i => (i.Lines, i.Records, i.Events, i.Bytes, i.LastLine, i.BytesToLastNewline)),
            fast.Inputs.Select(i => (i.Lines, i.Records, i.Events, i.Bytes, i.LastLine, i.BytesToLastNewline)));
        Assert.All(fast.Alerts.SelectMany(a => a.Evidence), e => Assert.EndsWith("audit.log", e.File, StringComparison.Ordinal)); // the attack is in the newest file
    }

    [Theory]
    [InlineData(4096)]
    [InlineData(0)]
    public void A_real_capture_cut_into_many_files_gives_the_full_parsers_alerts(int blockSize)
    {
        var lines = File.ReadAllLines(Path.Combine(Repo.Samples, "audit-enriched.log"));
        var parts = 7;
        var per = (lines.Length / parts) + 1;
        for (var i = 0; i < parts; i++)
        {
            var age = parts - 1 - i;
            Write($"cut/audit.log{(age > 0 ? $".{age}" : "")}", string.Join('\n', lines.Skip(i * per).Take(per)) + "\n");
        }
        var set = Resolve(Path.Combine(_dir, "cut"));
        Assert.Equal(parts, set.Count);

        var fast = Alerts(set, prefilter: true, blockSize);
        Assert.NotEmpty(fast);
        Assert.Equal(Alerts(set, prefilter: false), fast);
        Assert.Equal(Counts(new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(set)),
            Counts(new DetectionPipeline(DetectionRules.Default) { PrefilterBlockSize = blockSize > 0 ? blockSize : ImdsWatch.Sources.Auditd.Prefilter.ParallelBlockPass.DefaultBlockSize }.Scan(set)));
    }

    [Fact]
    public void A_logrotate_set_of_gzip_and_plain_files_reads_as_the_joined_file()
    {
        var (older, newer) = AttackAcrossTheRotation();
        var oldest = Noise(1, 99, 3000);
        WriteGzip("set/audit.log.2.gz", oldest);
        WriteGzip("set/audit.log.1.gz", older);
        Write("set/audit.log", newer);
        var joined = Write("joined/audit.log", oldest + older + newer);

        var set = Resolve(Path.Combine(_dir, "set"));
        Assert.Equal(["audit.log.2.gz", "audit.log.1.gz", "audit.log"], set.Select(s => Path.GetFileName(s.Path!)));
        var fast = new DetectionPipeline(DetectionRules.Default).Scan(set);
        Assert.True(fast.RecordsParsed < fast.Records / 4, "the .gz files went the fast way");
        Assert.All(fast.Inputs, i => Assert.Null(i.Note));
        Assert.Contains("\"command_line\":\"bash /opt/steal.sh\"", Alerts(set, prefilter: true), StringComparison.Ordinal);
        Assert.Equal(Alerts([new InputSource(joined, joined)], prefilter: true), Alerts(set, prefilter: true));
        Assert.Equal(Alerts(set, prefilter: false), Alerts(set, prefilter: true));
    }

    [Fact]
    public void Bad_lines_are_reported_with_their_own_file_and_line()
    {
        Write("set/audit.log.1", Noise(1, 50, 3000) + "garbage one\n");
        Write("set/audit.log", "garbage two\n" + Noise(51, 50, 4000));
        var set = Resolve(Path.Combine(_dir, "set"));

        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(set);
        var fast = new DetectionPipeline(DetectionRules.Default).Scan(set);

        Assert.Equal(2, fast.IssueCount);
        Assert.Equal(full.Issues.Select(i => (Path.GetFileName(i.File), i.Line)).Order(), fast.Issues.Select(i => (Path.GetFileName(i.File), i.Line)).Order());
        Assert.Contains(fast.Issues, i => i.File.EndsWith("audit.log.1", StringComparison.Ordinal) && i.Line == 251);
        Assert.Contains(fast.Issues, i => i.File.EndsWith("audit.log", StringComparison.Ordinal) && i.Line == 1);
    }

    [GeneratedRegex("\"file\":\"[^\"]*\",\"line\":[0-9]+,")]
    private static partial Regex EvidencePlace();
}
