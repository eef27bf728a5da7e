using CsCheck;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>The fast path may skip text only where no evidence can be: its alerts are the full parser's, to the byte.</summary>
public sealed class PrefilterEquivalenceTests
{
    private static string Alerts(IReadOnlyList<InputSource> sources, bool prefilter) =>
        string.Join('\n', new DetectionPipeline(DetectionRules.Default) { UsePrefilter = prefilter }.Scan(sources).Alerts.Select(NdjsonAlertWriter.ToJson));

    private static void AssertSame(IReadOnlyList<InputSource> sources)
    {
        var full = Alerts(sources, prefilter: false);
        var fast = Alerts(sources, prefilter: true);
        Assert.Equal(full, fast);
    }

    /// <summary>The summary's counts: what a user compares between two runs of the same log.</summary>
    private static string Counts(ScanResult r) =>
        $"lines {r.Lines}, records {r.Records}, events {r.Events}, late {r.LateRecords}, issues {r.IssueCount}, "
        + $"execs {r.Detection.Execs}, outbound {r.Detection.Connects}, to metadata {r.Detection.MetadataConnects}, mentions {r.Detection.Mentions}";

    private static void AssertSameCounts(IReadOnlyList<InputSource> sources, int blockSize = ParallelBlockPass.DefaultBlockSize)
    {
        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan(sources);
        var fast = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = true, PrefilterBlockSize = blockSize }.Scan(sources);
        Assert.Equal(Counts(full), Counts(fast));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Samples_give_the_same_summary_counts_with_and_without_the_prefilter(string sample)
    {
        var path = Path.Combine(Repo.Samples, sample);
        var plain = Audit.WriteTemp("");
        if (InputSource.IsGzip(File.ReadAllBytes(path).AsSpan(0, 2)))
        {
            // gzip is parsed fully: the same log unpacked goes the fast way.
            using var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
            using var file = File.Create(plain);
            gz.CopyTo(file);
            path = plain;
        }
        var fast = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]);
        Assert.True(fast.Detection.Execs > 0 || sample.StartsWith("syslog", StringComparison.Ordinal));
        AssertSameCounts([new InputSource(path, path)]);
    }

    [CorpusFact]
    public void Every_corpus_file_gives_the_same_summary_counts_with_and_without_the_prefilter()
    {
        foreach (var f in CorpusFiles())
            AssertSameCounts([f]);
    }

    [Fact]
    public void Skipped_failed_execs_unix_and_big_endian_connects_count_as_the_full_parser_counts_them()
    {
        var text = Week.NormalUse(3) + Week.Nodes(
            Audit.Exec(90_001, 8000, "/usr/bin/bash", ["bash", "-c", "sleep 1"], tty: "(none)", time: Week.Start + 5)
            + Audit.Exec(90_002, 8001, "/usr/bin/nope", ["nope"], ppid: 8000, time: Week.Start + 6).Replace("success=yes", "success=no", StringComparison.Ordinal)
            + Audit.Connect(90_003, 8002, "/usr/bin/wget", "10.1.2.3", ppid: 8000, time: Week.Start + 6.2)
            + Audit.Connect(90_004, 8003, "/usr/bin/wget", "10.1.2.4", ppid: 8000, time: Week.Start + 6.3)
                .Replace("arch=c000003e syscall=42", "arch=80000016 syscall=362", StringComparison.Ordinal)
                .Replace("saddr=02000050", "saddr=00020050", StringComparison.Ordinal), "web-1");
        var path = Audit.WriteTemp(text);
        var fast = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]);
        Assert.True(fast.RecordsParsed < fast.Records); // events were skipped, and still counted
        Assert.True(fast.Detection.Connects >= 2);
        AssertSameCounts([new InputSource(path, path)]);
    }

    /// <summary>
    /// Pass one reads of a SYSCALL only what its run's records need (no SOCKADDR: not an outbound connect; no EXECVE:
    /// not an exec): when another event's records come between a SYSCALL and its EXECVE or SOCKADDR, the event is in
    /// two runs, and the failed exec and the connect are still counted as the full parser counts them.
    /// </summary>
    [Fact]
    public void Interleaved_events_whose_syscall_and_execve_or_sockaddr_are_in_different_runs_count_as_the_full_parser_counts_them()
    {
        static string[] Lines(string e) => e.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var exec = Lines(Audit.Exec(90_010, 8100, "/usr/bin/nope", ["nope"], ppid: 8000, time: Week.Start + 7)
            .Replace("success=yes", "success=no", StringComparison.Ordinal));
        var connect = Lines(Audit.Connect(90_011, 8101, "/usr/bin/wget", "10.1.2.5", ppid: 8000, time: Week.Start + 7));
        var other = Lines(Audit.Exec(90_012, 8102, "/usr/bin/true", ["true"], ppid: 8000, time: Week.Start + 7));
        // SYSCALL of each, then the rest of each, record by record in turn.
        var mixed = new List<string>();
        for (var i = 0; i < Math.Max(exec.Length, Math.Max(connect.Length, other.Length)); i++)
        {
            foreach (var e in new[] { exec, connect, other })
            {
                if (i < e.Length)
                    mixed.Add(e[i]);
            }
        }
        var text = Week.NormalUse(2) + Week.Nodes(string.Join('\n', mixed) + "\n", "web-1");
        var path = Audit.WriteTemp(text);
        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan([new InputSource(path, path)]);
        Assert.True(full.Detection.Connects >= 1);
        AssertSameCounts([new InputSource(path, path)]);
    }

    /// <summary>
    /// A record whose serial jumps far ahead between a SYSCALL and its EXECVE (found by the fuzz harness): the assembler
    /// keeps the exec open (it completes events after 256 records or 5 s, not by serial distance), so the selector may
    /// not decide it by distance either — it keeps what is open around a jump, and the exec alert is raised both ways.
    /// </summary>
    [Fact]
    public void A_serial_that_jumps_ahead_inside_an_event_gives_the_same_alerts_and_counts()
    {
        var path = Path.Combine(Repo.Root, "tests", "ImdsWatch.Tests", "Regressions", "audit-serial-jump.log");
        var full = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan([new InputSource(path, path)]);
        Assert.Single(full.Alerts);
        AssertSame([new InputSource(path, path)]);
        AssertSameCounts([new InputSource(path, path)]);
    }

    private const string Fork =
        "arch=c000003e syscall=56 success=\"yes\" exit=2670 a0=1200011 a1=0 a2=0 a3=7fcfb71699d0 items=0 ppid=2532 pid=2542 auid=4294967295 "
        + "uid=11178 gid=201 euid=11178 suid=11178 fsuid=11178 egid=201 sgid=201 fsgid=201 tty=\"(none)\" ses=4294967295 comm=\"csh\" exe=\"/bin/tcsh\" key=\"fork\"";

    /// <summary>
    /// Records of a serial after its EOE (found by the fuzz harness: an event written twice whole under one serial, a
    /// damaged type after the EOE): the assembler completed the event at its EOE and makes what follows an event of its
    /// own, a late fragment — so the full parser counts two events where pass one saw one run, or one event in two runs.
    /// </summary>
    [Theory]
    [InlineData("SYSCALL 2638056 .361 | EOE 2638056 .361 | SYSCALL 2638056 .361")] // one run: the event written twice
    [InlineData("SYSCALL 2638056 .361 | EOE 2638056 .361 | SYSCAL 2638056 .361")] // a damaged type after the EOE
    [InlineData("SYSCALL 2638056 .361 | EOE 2638056 .361 | EOE 2638056 .361")] // a second EOE adds nothing
    [InlineData("SYSCALL 2638056 .361 | 1320 2638056 .361 | SYSCALL 2638056 .361")] // EOE by its number
    [InlineData("SYSCALL 2638056 .361 | UNKNOWN[1320] 2638056 .361 | SYSCALL 2638056 .361")]
    [InlineData("SYSCALL 2638056 .361 | EOE 2638056 .361 | SYSCALL 2638056 .365")] // the copy another run (its stamp differs)
    [InlineData("SYSCALL 2638056 .361 | EOE 2638056 .361 | SYSCALL 2638057 .361 | SYSCALL 2638056 .361")] // another event between
    public void Records_of_a_serial_after_its_eoe_count_as_the_full_parser_counts_them(string records)
    {
        foreach (var blockSize in new[] { 64, 200, ParallelBlockPass.DefaultBlockSize })
            AssertSameCounts(WriteRecords(records), blockSize);
    }

    /// <summary>
    /// An EXECVE whose serial is thousands behind, between a SYSCALL and its CWD (found by the fuzz harness): the CWD
    /// joins its SYSCALL in the full parser, so pass one must find that event behind the one out of order.
    /// </summary>
    [Theory]
    [InlineData("SYSCALL 8972 .985 | EXECVE 892 .985 | CWD 8972 .985")]
    [InlineData("SYSCALL 124507 .888 | EXECVE 104507 .888 | CWD 124507 .888")]
    public void A_record_far_behind_between_two_of_one_event_leaves_them_one_event(string records)
    {
        foreach (var blockSize in new[] { 64, 200, ParallelBlockPass.DefaultBlockSize })
            AssertSameCounts(WriteRecords(records), blockSize);
    }

    /// <summary>"TYPE SERIAL .MILLIS | …": records of one node at second 1697091526, bodies made up for the type.</summary>
    private static List<InputSource> WriteRecords(string records)
    {
        var text = new System.Text.StringBuilder();
        foreach (var record in records.Split(" | "))
        {
            var (type, serial, millis) = record.Split(' ') is [var t, var n, var m] ? (t, n, m) : throw new ArgumentException(record);
            var body = type switch
            {
                "SYSCALL" or "SYSCAL" => Fork,
                "EXECVE" => "argc=2 a0=\"uname\" a1=\"-a\"",
                "CWD" => "cwd=\"/home/andrew_kroh\"",
                _ => "",
            };
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"type={type} msg=audit(1697091526{millis}:{serial}): {body}\n");
        }
        var path = Audit.WriteTemp(text.ToString());
        return [new InputSource(path, path)];
    }

    private static List<InputSource> CorpusFiles() =>
        Directory.EnumerateFiles(Path.Combine(Repo.Corpora, "auditd"), "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".golden", StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(f => new InputSource(f, f)).ToList();

    public static TheoryData<string> Samples() => new() { "audit-enriched.log", "audit-raw.log.gz", "syslog/syslog" };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Samples_give_identical_alerts(string sample)
    {
        var path = Path.Combine(Repo.Samples, sample);
        var sources = new[] { new InputSource(path, path) };
        Assert.NotEmpty(Alerts(sources, prefilter: true));
        AssertSame(sources);
    }

    [CorpusFact]
    public void Every_corpus_file_gives_identical_alerts_alone_and_together()
    {
        var files = CorpusFiles();
        foreach (var f in files)
            AssertSame([f]);
        AssertSame(files);
    }

    [Fact]
    public void Synthetic_logs_with_wrappers_agents_ancestry_and_no_eoe_give_identical_alerts()
    {
        var text = Week.NormalUse(3)
            + Week.Nodes(Audit.Exec(90_001, 8000, "/usr/bin/bash", ["bash", "-c", "sleep 1"], tty: "(none)", time: Week.Start + 5)
            + Audit.Exec(90_002, 8001, "/usr/bin/sudo", ["sudo", "wget", "http://0xA9FEA9FE/latest/user-data"], ppid: 8000, time: Week.Start + 6)
            + Audit.Exec(90_003, 8002, "/usr/bin/wget", ["wget", "http://0xA9FEA9FE/latest/user-data"], ppid: 8001, time: Week.Start + 6.1)
            + Audit.Connect(90_004, 8002, "/usr/bin/wget", "169.254.169.254", ppid: 8001, time: Week.Start + 6.2)
            + Audit.Exec(90_005, 8003, "/usr/bin/python3.11", ["python3", "/srv/x.py"], ppid: 8000, tty: "(none)", time: Week.Start + 7)
            + Audit.Connect(90_006, 8003, "/usr/bin/python3.11", "::ffff:169.254.169.254", ppid: 8000, time: Week.Start + 7.1), "web-1")
            .Replace("type=EOE", "type=EOE", StringComparison.Ordinal);
        var noEoe = string.Join('\n', text.Split('\n').Where(l => !l.Contains("type=EOE", StringComparison.Ordinal)));
        foreach (var variant in new[] { text, noEoe })
        {
            var path = Audit.WriteTemp(variant);
            AssertSame([new InputSource(path, path)]);
        }
    }

    /// <summary>
    /// A fuzz finding: an exec whose pid the log damaged (the full parser's exec has pid -1) is still the child of its
    /// ppid, whose exec the alert names as its parent — the prefilter kept no parent for an event without a pid.
    /// </summary>
    [Fact]
    public void An_exec_whose_pid_is_damaged_names_its_parent_on_both_paths()
    {
        var text = Audit.Exec(1462, 6496, "/usr/bin/dash", ["/bin/sh", "/tmp/x.sh"], ppid: 6495, time: 1795527264.842)
            + Audit.Exec(1463, 6497, "/usr/bin/curl", ["curl", "-s", "http://169.254.43518/latest/meta-data/"], ppid: 6496, time: 1795527264.842)
                .Replace("pid=6497", "pid=\u000e497", StringComparison.Ordinal);
        var path = Audit.WriteTemp(text);
        var alerts = Alerts([new InputSource(path, path)], prefilter: false);
        Assert.Contains("\"parent\":{\"pid\":6496,\"name\":\"dash\"", alerts, StringComparison.Ordinal);
        AssertSame([new InputSource(path, path)]);
    }

    [Theory]
    [InlineData("curl 169.254.169.'254'")]
    [InlineData("curl 169.254.169.2\\54")]
    [InlineData("curl http://169.254.'169.254'/x")]
    [InlineData("curl http://10.0.0.9/latest/meta-\"data\"/iam/")]
    public void A_script_that_splices_an_endpoint_out_of_quoted_pieces_is_found_by_both_paths(string script)
    {
        // The kernel writes an argument with a space or a double quote as hex.
        var hex = Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(script));
        var text = Week.NormalUse(1) + Week.Nodes(Audit.Exec(90_001, 8000, "/usr/bin/dash", ["sh", "-c", "SCRIPT"], time: Week.Start + 5), "web-1")
            .Replace("a2=\"SCRIPT\"", "a2=" + hex, StringComparison.Ordinal);
        var path = Audit.WriteTemp(text);
        AssertSame([new InputSource(path, path)]);
        var alerts = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]).Alerts;
        Assert.Contains(alerts, a => a.Process.Pid == 8000);
    }

    [Fact]
    public void The_candidate_check_never_says_no_where_the_analyzer_finds_a_reference_in_a_shell_script()
    {
        var rules = DetectionRules.Default;
        string[] spellings = ["169.254.169.254", "2852039166", "0xa9fea9fe", "[fd00:ec2::254]", "metadata.google.internal", "169.254.170.2"];
        string[] shapes = ["curl {0}", "curl http://{0}/latest/meta-data/", "wget -qO- http://{0}/computeMetadata/v1/", "curl 10.1.2.3/latest/api/token"];
        var gen = from spelling in Gen.OneOfConst(spellings)
                  from shape in Gen.OneOfConst(shapes)
                  from cuts in Gen.Int[0, 40].Array[1, 3]
                  from quote in Gen.OneOfConst("''", "\"\"", "\\")
                  select Splice(string.Format(System.Globalization.CultureInfo.InvariantCulture, shape, spelling), cuts, quote);
        gen.Sample(script =>
        {
            string[] argv = ["sh", "-c", script];
            return rules.Analyzer.Analyze(argv).References.Count == 0 || rules.Candidates.MayReference(argv);
        }, iter: 5000);
        // Code glued to an interpreter's flag is read from after the flag.
        Gen.OneOfConst(spellings).Sample(spelling =>
        {
            string[] argv = ["python3", "-c" + spelling + ";import urllib.request"];
            return rules.Analyzer.Analyze(argv).References.Count == 0 || rules.Candidates.MayReference(argv);
        });

        // Quotes (or a backslash) put in between characters, as a shell script may to hide a name from a search.
        static string Splice(string text, int[] cuts, string quote)
        {
            foreach (var cut in cuts.Order().Reverse())
            {
                var at = Math.Min(cut, text.Length);
                text = text.Insert(at, quote == "\\" ? "\\" : quote);
            }
            return text;
        }
    }

    [Fact]
    public void The_candidate_check_never_says_no_where_the_analyzer_finds_a_reference_in_shell_like_text()
    {
        // Pieces of addresses, names and shell syntax, joined at random and handed to a shell, an interpreter, a
        // wrapper that splits its argument, and a fetch tool: wherever the analyzer finds a reference, the quick
        // check must say "maybe" (the prefilter and the unread images rely on it).
        var rules = DetectionRules.Default;
        string[] pieces =
        [
            "169", "254", ".", "'", "\"", "\\", "0x", "a9fe", "a9", "fe", "2852039166", "-", ":", "[", "]", "fd00", "ec2", "::",
            "metadata", ".google.internal", "/latest/meta-data", " ", "curl ", "http://", "/", "x", "_", "$", "{", "}", "=", "%",
            "@", "170", "2", "0251", "0376", "100", "200", "168.63.129.16", ";", "|", "(", ")", "`", "-c", "-e",
        ];
        Gen.OneOfConst(pieces).Array[1, 12].Select(string.Concat).Sample(text =>
        {
            string[][] commands = [["sh", "-c", text], ["python3", "-c" + text], ["curl", text], ["env", "-S", text], ["su", "-c", text]];
            return commands.All(argv => rules.Analyzer.Analyze(argv).References.Count == 0 || rules.Candidates.MayReference(argv));
        }, iter: 5000);
    }

    [Fact]
    public void The_candidate_check_never_says_no_where_the_finder_finds_a_reference()
    {
        var candidates = new ReferenceCandidates(IndicatorCatalog.Default);
        var finder = DetectionRules.Default.Finder;
        string[] spellings =
        [
            "169.254.169.254", "2852039166", "0xA9FEA9FE", "0xa9fea9fe", "025177524776", "0251.0376.0251.0376", "169.254.43518",
            "169.16689662", "0xa9.254.0251.0xfe", "[fd00:ec2::254]", "fd00:ec2::254", "::ffff:169.254.169.254", "[::ffff:a9fe:a9fe]",
            "64:ff9b::a9fe:a9fe", "169.254.169.254.nip.io", "169-254-169-254.sslip.io", "a9fea9fe.nip.io", "x.169.254.169.254.xip.io",
            "metadata.google.internal", "METADATA.goog", "instance-data", "169.254.170.2", "100.100.100.200", "168.63.129.16",
            "%31%36%39.254.169.254", "１６９.２５４.１６９.２５４", "192.0.0.192", "169.254.0.23", "metadata.tencentyun.com",
        ];
        string[] shapes = ["http://{0}/latest/meta-data/", "{0}", "Host: {0}", "TCP:{0}:80", "/dev/tcp/{0}/80", "user@{0}", "x={0}&y=1", "'{0}'", "u=http://a@{0}:8080/x"];
        var gen = from spelling in Gen.OneOfConst(spellings)
                  from shape in Gen.OneOfConst(shapes)
                  from noise in Gen.String[Gen.Char["abc:./-_ 0123456789[]%"], 0, 12]
                  select noise + string.Format(System.Globalization.CultureInfo.InvariantCulture, shape, spelling) + noise;
        gen.Sample(text =>
            finder.Find(text).Count == 0 || candidates.MayReference(System.Text.Encoding.UTF8.GetBytes(text)), iter: 5000);
        Gen.String.Sample(text =>
            finder.Find(text).Count == 0 || candidates.MayReference(System.Text.Encoding.UTF8.GetBytes(text)), iter: 5000);
        Assert.False(candidates.MayReference("ls -la /tmp/build-1.2.3 --color=auto"u8));

        // One number in each base inet_aton reads (and the 8 bare hex digits): a label too short to be an address is
        // passed over without parsing, which must never hide one that is.
        var catalog = IndicatorCatalog.Default.Addresses.Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            .Select(a => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(a.GetAddressBytes())).ToArray();
        var numbers = from value in Gen.Frequency((1, Gen.UInt), (1, Gen.OneOfConst(catalog)), (1, Gen.UInt[0, 99_999_999]))
                      from form in Gen.Int[0, 3]
                      from around in Gen.OneOfConst("{0}", "x {0} y", "{0}.", "a_{0}", "[{0}]")
                      select string.Format(System.Globalization.CultureInfo.InvariantCulture, around, form switch
                      {
                          0 => value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                          1 => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture),
                          2 => "0" + Convert.ToString(value, 8),
                          _ => value.ToString("x8", System.Globalization.CultureInfo.InvariantCulture),
                      });
        numbers.Sample(text =>
            finder.Find(text).Count == 0 || candidates.MayReference(System.Text.Encoding.UTF8.GetBytes(text)), iter: 20000);
        Assert.False(candidates.MayReference("sleep 60; timeout 5 ip netns identify 6783"u8));
        Assert.True(candidates.MayReference("ping 2852039166"u8));
    }
}
