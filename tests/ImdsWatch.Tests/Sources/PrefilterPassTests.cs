using System.IO.Compression;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>
/// The prefiltered scan cuts files into blocks read on several threads: wherever the cuts fall, whatever the number
/// of threads, it must count lines, report bad ones and checkpoint exactly as the full parser does.
/// </summary>
public sealed class PrefilterPassTests
{
    private static ScanResult Scan(InputSource source, bool prefilter, int blockSize = ParallelBlockPass.DefaultBlockSize, int workers = 0, DetectionPipeline? into = null)
    {
        var scanner = into ?? new DetectionPipeline(DetectionRules.Default) { UsePrefilter = prefilter, PrefilterBlockSize = blockSize, Workers = workers };
        return scanner.Scan([source]);
    }

    private static string Json(ScanResult r) => string.Join('\n', r.Alerts.Select(NdjsonAlertWriter.ToJson));

    private static void AssertSameAsFull(InputSource source, int blockSize, int workers)
    {
        var fullScanner = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false };
        var fastScanner = new DetectionPipeline(DetectionRules.Default) { PrefilterBlockSize = blockSize, Workers = workers };
        var full = fullScanner.Scan([source]);
        var fast = fastScanner.Scan([source]);
        Assert.Equal(Json(full), Json(fast));
        Assert.Equal(full.Lines, fast.Lines);
        Assert.Equal(full.Records, fast.Records);
        Assert.Equal(full.Bytes, fast.Bytes);
        Assert.Equal((full.Inputs[0].BytesToLastNewline, full.Inputs[0].LastLine, full.Inputs[0].NewestMilliseconds),
            (fast.Inputs[0].BytesToLastNewline, fast.Inputs[0].LastLine, fast.Inputs[0].NewestMilliseconds));
        Assert.True(fast.RecordsParsed < fast.Records || fast.Records == 0 || fast.Alerts.Count > 0);
    }

    public static TheoryData<int, int> Cuts() => new() { { 64, 1 }, { 64, 2 }, { 997, 2 }, { 4096, 3 }, { 1 << 20, 2 } };

    [Theory]
    [MemberData(nameof(Cuts))]
    public void The_enriched_sample_reads_the_same_wherever_blocks_are_cut(int blockSize, int workers)
    {
        var path = Path.Combine(Repo.Samples, "audit-enriched.log");
        AssertSameAsFull(new InputSource(path, path), blockSize, workers);
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void The_raw_sample_reads_the_same_wherever_blocks_are_cut(int blockSize, int workers)
    {
        // The log unpacked by hand (the scan also unpacks a .gz itself, tested in UnpackedGzipTests): the fast way.
        var path = Audit.WriteTemp("");
        using (var gz = new GZipStream(File.OpenRead(Path.Combine(Repo.Samples, "audit-raw.log.gz")), CompressionMode.Decompress))
        using (var plain = File.Create(path))
            gz.CopyTo(plain);
        var source = new InputSource(path, path);
        Assert.True(PrefilteredAuditLogSource.CanRead(source));
        Assert.NotEmpty(Scan(source, prefilter: true).Alerts);
        AssertSameAsFull(source, blockSize, workers);
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void Blank_lines_CRLF_bad_lines_and_a_last_line_without_newline_are_counted_alike(int blockSize, int workers)
    {
        var text = "\n\n" + Audit.Exec(100, 500, "/usr/bin/bash", ["bash"], ppid: 1)
            + "garbage without a type\r\n"
            + Audit.Exec(101, 501, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"], ppid: 500).Replace("\n", "\r\n", StringComparison.Ordinal)
            + "type=SYSCALL msg=audit(oops): arch=c000003e\n   \n"
            + Audit.Connect(102, 501, "/usr/bin/curl", "169.254.169.254", ppid: 500).TrimEnd('\n');
        var path = Path.Combine(Directory.CreateTempSubdirectory("imdswatch-test-").FullName, "audit.log");
        File.WriteAllText(path, text); // as written: CRLF kept, no newline at the end
        var source = new InputSource(path, path);
        AssertSameAsFull(source, blockSize, workers);

        var full = Scan(source, prefilter: false);
        var fast = Scan(source, prefilter: true, blockSize, workers);
        Assert.Equal(2, fast.IssueCount);
        Assert.Equal(full.Issues.Select(i => $"{i.Line}: {i.Reason}"), fast.Issues.Select(i => $"{i.Line}: {i.Reason}"));
        Assert.Single(fast.Alerts);
    }

    [Fact]
    public void A_line_longer_than_the_limit_is_skipped_and_reported_and_what_follows_is_read()
    {
        var text = Audit.Exec(100, 500, "/usr/bin/bash", ["bash"], ppid: 1)
            + "type=USER_CMD msg=audit(1700000000.000:1): " + new string('x', LineReader.MaxLineBytes + 10) + "\n"
            + Audit.Exec(101, 501, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/user-data"], ppid: 500);
        var path = Audit.WriteTemp(text);
        var source = new InputSource(path, path);
        var full = Scan(source, prefilter: false);
        foreach (var blockSize in new[] { 1 << 20, 4 << 20 })
        {
            var fast = Scan(source, prefilter: true, blockSize, workers: 2);
            Assert.Equal(Json(full), Json(fast));
            Assert.Equal(full.Lines, fast.Lines);
            Assert.Equal(full.Issues.Select(i => $"{i.Line}: {i.Reason}"), fast.Issues.Select(i => $"{i.Line}: {i.Reason}"));
            Assert.Contains(fast.Issues, i => i.Reason.Contains("longer than", StringComparison.Ordinal));
            Assert.Single(fast.Alerts);
        }
    }

    [Fact]
    public void A_checkpoint_offset_reads_the_rest_with_its_own_line_numbers()
    {
        var head = Audit.Exec(100, 500, "/usr/bin/bash", ["bash"], ppid: 1);
        var tail = Audit.Exec(101, 501, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/user-data"], ppid: 500)
            + Audit.Connect(102, 501, "/usr/bin/curl", "169.254.169.254", ppid: 500);
        var path = Audit.WriteTemp(head + tail);
        var lines = head.Count(c => c == '\n');
        var source = new InputSource(path, path) { Offset = System.Text.Encoding.UTF8.GetByteCount(head), FirstLineNumber = lines + 1 };
        foreach (var blockSize in new[] { 100, 1 << 20 })
            AssertSameAsFull(source, blockSize, workers: 2);
        var fast = Scan(source, prefilter: true);
        Assert.All(fast.Alerts, a => Assert.All(a.Evidence, e => Assert.True(e.Line > lines)));
    }

    [Fact]
    public void Most_of_a_quiet_log_is_never_parsed_and_the_access_in_it_is_found_with_its_ancestry()
    {
        var quiet = new System.Text.StringBuilder();
        for (var i = 0; i < 300; i++)
        {
            quiet.Append(Audit.Exec((ulong)(1000 + (2 * i)), 3000 + i, "/usr/bin/ls", ["ls", "-la", $"/srv/build-{i}.2.3"], ppid: 2999, time: 1700000000 + i));
            quiet.Append(Audit.Connect((ulong)(1001 + (2 * i)), 3000 + i, "/usr/bin/ls", "10.1.2.3", port: 443, ppid: 2999, time: 1700000000.5 + i));
        }
        var text = Audit.Exec(999, 2999, "/usr/bin/bash", ["bash"], ppid: 1, time: 1699999999)
            + quiet
            + Audit.Exec(5000, 8001, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/"], ppid: 2999, time: 1700001000);
        var r = Audit.Scan(text);
        var alert = Assert.Single(r.Alerts);
        Assert.Contains(alert.Ancestors, a => a.Executable == "/usr/bin/bash");
        Assert.True(r.RecordsParsed * 20 < r.Records, $"{r.RecordsParsed} of {r.Records} records parsed");
    }

    [Theory]
    [InlineData("DAEMON_CONFIG", 5UL)] // far below the kernel's serials
    [InlineData("DAEMON_ROTATE", 4_000_000UL)] // far above
    [InlineData("UNKNOWN[1205]", 5UL)] // DAEMON_RESUME by number
    [InlineData("DAEMON_START", 900_001UL)] // the very serial of the coming exec
    public void Auditds_own_records_take_no_place_among_the_kernels_serials(string type, ulong serial)
    {
        // auditd writes its records (1200-1299) with its own serial: a reload between a shell's exec and its child's
        // access must not make the shell's exec look too old to be the child's parent.
        var daemon = $"type={type} msg=audit(1700000000.500:{serial}): op=reconfigure auid=0 pid=1 subj=unconfined res=success\n";
        var text = Audit.Exec(900_000, 700, "/usr/bin/bash", ["bash", "/srv/job.sh"], ppid: 1)
            + daemon
            + Audit.Exec(900_001, 701, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"], ppid: 700, time: 1700000001);
        var path = Audit.WriteTemp(text);
        var source = new InputSource(path, path);
        foreach (var (blockSize, workers) in new[] { (64, 1), (256, 2), (1 << 20, 2) })
        {
            var fast = Scan(source, prefilter: true, blockSize: blockSize, workers: workers);
            var alert = Assert.Single(fast.Alerts);
            Assert.Contains(alert.Ancestors, p => p.Executable == "/usr/bin/bash");
            Assert.Equal(Json(Scan(source, prefilter: false)), Json(fast));
        }
    }

    [Theory]
    [InlineData(900_001UL)] // the serial of the event it interrupts
    [InlineData(7UL)]
    public void An_auditd_record_inside_a_kernel_event_leaves_the_event_whole(ulong serial)
    {
        var curl = Audit.Exec(900_001, 701, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"], ppid: 700, time: 1700000001)
            .Split('\n');
        var daemon = $"type=DAEMON_CONFIG msg=audit(1700000001.000:{serial}): op=reconfigure auid=0 pid=1 res=success";
        var text = Audit.Exec(900_000, 700, "/usr/bin/bash", ["bash", "/srv/job.sh"], ppid: 1)
            + string.Join('\n', curl.Take(2).Append(daemon).Concat(curl.Skip(2)));
        var path = Audit.WriteTemp(text);
        var source = new InputSource(path, path);
        var full = Scan(source, prefilter: false);
        Assert.Contains(Assert.Single(full.Alerts).Ancestors, p => p.Executable == "/usr/bin/bash");
        foreach (var (blockSize, workers) in new[] { (64, 1), (300, 2), (1 << 20, 2) })
            Assert.Equal(Json(full), Json(Scan(source, prefilter: true, blockSize: blockSize, workers: workers)));
    }

    [Fact]
    public void A_log_joined_after_a_newer_one_is_read_like_a_new_boot()
    {
        static string Session(ulong serial, int pid) =>
            Audit.Exec(serial, pid, "/usr/bin/bash", ["bash", "/srv/job.sh"], ppid: 1)
            + Audit.Exec(serial + 1, pid + 1, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"], ppid: pid)
            + Audit.Connect(serial + 2, pid + 1, "/usr/bin/curl", "169.254.169.254", ppid: pid);
        var path = Audit.WriteTemp(Session(900_000, 700) + Session(100, 800));
        var source = new InputSource(path, path);
        var fast = Scan(source, prefilter: true, blockSize: 128, workers: 2);
        Assert.Equal(2, fast.Alerts.Count);
        Assert.All(fast.Alerts, a => Assert.Contains(a.Ancestors, p => p.Executable == "/usr/bin/bash"));
        Assert.Equal(Json(Scan(source, prefilter: false)), Json(fast));
    }

    [Fact]
    public void A_file_cut_short_while_it_is_read_ends_the_pass_with_what_is_there()
    {
        var text = Audit.Exec(100, 500, "/usr/bin/bash", ["bash"], ppid: 1) + Audit.Exec(101, 501, "/usr/bin/ls", ["ls"], ppid: 500);
        var path = Audit.WriteTemp(text);
        using var handle = File.OpenHandle(path);
        var length = RandomAccess.GetLength(handle);
        foreach (var blockSize in new[] { 64, 1 << 20 })
        {
            long lines = 0;
            var serials = new HashSet<ulong>();
            var pass = new ParallelBlockPass(new ImdsWatch.Indicators.ReferenceCandidates(ImdsWatch.Indicators.IndicatorCatalog.Default), 2, blockSize);
            pass.Run(handle, 0, length + 5000, b => { lines += b.Lines; serials.UnionWith(b.Runs.Select(r => r.Serial)); }); // as if the file had been longer
            Assert.Equal(text.Count(c => c == '\n'), lines);
            Assert.Equal(new ulong[] { 100, 101 }, serials.Order());
        }
    }
}
