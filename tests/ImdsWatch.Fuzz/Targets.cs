using System.Text;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Config;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Detection.Web;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Ecs;
using ImdsWatch.Sources.Input;
using ImdsWatch.Sources.Syslog;
using ImdsWatch.Sources.Web;

namespace ImdsWatch.Fuzz;

/// <summary>Every fuzz target, by name. Each feeds one input through a parser or stage and checks what it can.</summary>
internal static class Targets
{
    // A property, read on first use: under afl-fuzz no instrumented code may run before SharpFuzz sets up its map.
    private static DetectionRules Rules => DetectionRules.Default;

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("audit-record", SeedKind.AuditLine, "AuditRecordParser header + fields of one line", AuditRecord),
        new("audit-events", SeedKind.AuditChunk, "parser → event assembler → normalizer → detector over a few lines", AuditEvents),
        new("prefilter", SeedKind.AuditChunk, "pass-one classifier of a block, and ReferenceCandidates never saying no where the finder says yes", Prefilter),
        new("prefilter-equivalence", SeedKind.AuditChunk, "the same alerts with and without the prefilter, blocks cut small, 2 workers", PrefilterEquivalence),
        new("sockaddr", SeedKind.SockAddr, "SOCKADDR decoder (both byte orders)", SockAddrTarget),
        new("hex", SeedKind.Hex, "audit hex field decoder", Hex),
        new("execve", SeedKind.Execve, "EXECVE fields → argv (split a1[0]…, hex), PROCTITLE → argv", Execve),
        new("syslog", SeedKind.SyslogLine, "syslog header parser, relayed audit records, netfilter, Sysmon, mention rule", Syslog),
        new("ecs", SeedKind.EcsLine, "ECS NDJSON reader and the analysis of its process", Ecs),
        new("web", SeedKind.WebLine, "nginx/Apache/ALB/squid access-log reader and the SSRF rule", Web),
        new("cloudtrail", SeedKind.CloudTrail, "CloudTrail reader (its public entry point) and rules", CloudTrail),
        new("config", SeedKind.Config, "configuration loader: only InvalidDataException (a message, exit 2) may come out", ConfigTarget),
        new("finder", SeedKind.Text, "endpoint finder, command-line analyzer, shell words", Finder),
    ];

    public static FuzzTarget? Named(string name) => All.FirstOrDefault(t => t.Name == name);

    private static void AuditRecord(byte[] input, Scratch unused)
    {
        var parser = new AuditRecordParser();
        var parsed = parser.TryParse(input, 0, 1, out var record, out var error);
        if (parsed != AuditRecordParser.TryParseHeader(input, out _, out _))
            throw new FuzzFinding("TryParse and TryParseHeader disagree");
        if (!parsed && string.IsNullOrEmpty(error))
            throw new FuzzFinding("a line refused without a reason");
        if (parsed)
        {
            _ = record!.Timestamp; // a stamp the parser takes is a time
            _ = record.ReadFields().All.Count;
        }
    }

    private static void AuditEvents(byte[] input, Scratch unused)
    {
        var detector = new MetadataAccessDetector(Rules);
        var normalizer = new AuditEventNormalizer(_ => "fuzz", null, _ => { });
        var assembler = new AuditEventAssembler(e =>
        {
            foreach (var hostEvent in normalizer.Normalize(e))
            {
                if (hostEvent is not SessionEvent)
                    detector.Observe(hostEvent);
            }
        });
        var parser = new AuditRecordParser();
        var line = 0;
        foreach (var range in input.AsSpan().Split((byte)'\n'))
        {
            line++;
            if (parser.TryParse(input.AsSpan()[range], 0, line, out var record, out _))
                assembler.Add(record!);
        }
        assembler.Flush();
        foreach (var alert in detector.CompleteAll().Alerts)
            _ = NdjsonAlertWriter.ToJson(alert);
    }

    private static void Prefilter(byte[] input, Scratch unused)
    {
        var summary = new BlockSummary();
        new AuditBlockClassifier(Rules.Candidates).Classify(input, 0, summary);
        if (summary.Lines < input.AsSpan().Count((byte)'\n'))
            throw new FuzzFinding($"classifier counted {summary.Lines} lines");
        // Never no where the finder says yes: the prefilter would drop an alert.
        var text = Encoding.UTF8.GetString(input);
        if (Rules.Finder.Find(text).Count > 0 && !Rules.Candidates.MayReference(Encoding.UTF8.GetBytes(text)))
            throw new FuzzFinding("ReferenceCandidates said no to text the finder finds a reference in");
    }

    private static void PrefilterEquivalence(byte[] input, Scratch scratch)
    {
        var path = scratch.Write("audit.log", input);
        var source = new InputSource(path, path);
        var full = new DetectionPipeline(Rules) { UsePrefilter = false }.Scan([source]);
        var fast = new DetectionPipeline(Rules) { PrefilterBlockSize = 64 + (input.Length % 512), Workers = 2 }.Scan([source]);
        var a = string.Join('\n', full.Alerts.Select(NdjsonAlertWriter.ToJson));
        var b = string.Join('\n', fast.Alerts.Select(NdjsonAlertWriter.ToJson));
        if (a != b)
            throw new FuzzFinding($"alerts differ with the prefilter: {full.Alerts.Count} without, {fast.Alerts.Count} with");
        // Parse issues are not compared: a damaged field inside an event pass one rules out is never parsed, so only
        // the full parser reports it (lines and records that cannot be read are reported by both).
        static string Counts(ScanResult r) =>
            $"lines {r.Lines}, records {r.Records}, events {r.Events}, execs {r.Detection.Execs}, "
            + $"outbound {r.Detection.Connects}, to metadata {r.Detection.MetadataConnects}";
        if (Counts(full) != Counts(fast))
            throw new FuzzFinding($"counts differ with the prefilter: {Counts(full)} without, {Counts(fast)} with");
    }

    private static void SockAddrTarget(byte[] input, Scratch unused)
    {
        foreach (var bigEndian in new bool?[] { null, true, false })
        {
            var s = SockAddr.DecodeHex(input, bigEndian);
            _ = s.ToString();
        }
        _ = Rules.Candidates.IsMetadataSockaddr(input);
    }

    private static void Hex(byte[] input, Scratch unused)
    {
        _ = HexField.LooksLikeHex(input);
        var bytes = HexField.DecodeToBytes(input);
        var text = HexField.DecodeToString(input);
        if ((bytes is null) != (text is null))
            throw new FuzzFinding("DecodeToBytes and DecodeToString disagree");
        Span<byte> small = stackalloc byte[16];
        _ = HexField.TryDecode(input, small, out _);
    }

    private static void Execve(byte[] input, Scratch unused)
    {
        var fields = AuditFields.Parse(input);
        var argv = ExecveArguments.Rebuild([fields, AuditFields.Parse(input.AsSpan(0, input.Length / 2))], out _);
        _ = Rules.Analyzer.Analyze(argv);
        _ = ExecveArguments.FromProctitle(Encoding.UTF8.GetString(input).Replace(' ', '\0'));
    }

    private static void Syslog(byte[] input, Scratch unused)
    {
        var mentions = new SyslogMentionRule(new RuleContext { Rules = Rules });
        var found = new CollectingFindings();
        var parser = new AuditRecordParser();
        var evidence = new EvidenceRef("fuzz", 1, "syslog:1");
        var line = SyslogParser.Parse(Encoding.UTF8.GetString(input), 2026);
        if (line is null)
            return;
        _ = parser.TryParse(Encoding.UTF8.GetBytes(line.Message), 0, 1, out _, out _);
        _ = SyslogEventReader.Netfilter(line, evidence, 1);
        _ = SyslogEventReader.Sysmon(line, evidence, 2);
        mentions.Observe(new LogMessage { Timestamp = line.Timestamp, Host = line.Host, Program = line.Program, Pid = line.Pid, Message = line.Message, Evidence = evidence }, found);
        mentions.Complete(found);
        foreach (var alert in found.Alerts)
            _ = NdjsonAlertWriter.ToJson(alert);
    }

    private static void Ecs(byte[] input, Scratch unused)
    {
        var issues = new List<ParseIssue>();
        var e = EcsEventReader.Parse(Encoding.UTF8.GetString(input), "fuzz", 1, issues);
        if (e is null)
            return;
        var detector = new MetadataAccessDetector(Rules);
        detector.Observe(e);
        foreach (var alert in detector.CompleteAll().Alerts)
            _ = NdjsonAlertWriter.ToJson(alert);
    }

    private static void Web(byte[] input, Scratch unused)
    {
        var issues = new List<ParseIssue>();
        var request = WebAccessLogReader.Parse(Encoding.UTF8.GetString(input), "fuzz", 1, issues);
        if (request is null)
        {
            if (issues.Count == 0)
                throw new FuzzFinding("a line refused without an issue");
            return;
        }
        var rule = new SsrfRule(new RuleContext { Rules = Rules });
        var found = new CollectingFindings();
        rule.Observe(request, found);
        rule.Complete(found);
        foreach (var alert in found.Alerts)
            _ = NdjsonAlertWriter.ToJson(alert);
    }

    private static void CloudTrail(byte[] input, Scratch scratch)
    {
        var path = scratch.Write("trail.json", input);
        var rules = new CloudTrailRules(new CloudTrailOptions());
        var alerts = new List<Alert>();
        var issues = 0;
        _ = new CloudTrailSource { Workers = 1 }.Read([(0, new InputSource(path, path))], call => alerts.AddRange(rules.Observe(call)), (_, _, _) => issues++);
        alerts.AddRange(rules.Complete());
        foreach (var alert in alerts)
            _ = NdjsonAlertWriter.ToJson(alert);
    }

    private static void ConfigTarget(byte[] input, Scratch scratch)
    {
        var path = scratch.Write("config.yaml", input);
        try
        {
            var config = ImdsWatchConfig.Load(path);
            _ = config.BuildRules();
            _ = config.CloudTrailOptions();
            _ = config.AnomalyOptions();
            _ = config.MinimumSeverity;
        }
        catch (InvalidDataException)
        {
            // A bad configuration is a message and exit 2: fine.
        }
    }

    private static void Finder(byte[] input, Scratch unused)
    {
        var text = Encoding.UTF8.GetString(input);
        var found = Rules.Finder.Find(text);
        if (found.Count > 0 && !Rules.Candidates.MayReference(Encoding.UTF8.GetBytes(text)))
            throw new FuzzFinding("ReferenceCandidates said no to text the finder finds a reference in");
        _ = Rules.Analyzer.Analyze(["sh", "-c", text]);
        foreach (var command in ShellWords.SplitCommands(text))
            _ = Rules.Analyzer.Analyze(command);
        _ = Rules.Analyzer.Analyze(text.Split(' '));
    }
}
