using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;

if (args is ["stages", var file])
{
    PipelineStages.Run(file);
    return;
}
if (args is ["fullparser", var full, ..])
{
    FullParserTimes.Run(full, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3);
    return;
}
if (args is ["fullscan", var scanned, ..])
{
    FullScanTimes.Run(scanned, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 3);
    return;
}
if (args is ["passone", var one, ..])
{
    PassOneTimes.Run(one, args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 5);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(HotPathBenchmarks).Assembly).Run(args);

/// <summary>The hot parts of a scan, on the bundled kernel capture: dotnet run -c Release --project bench/ImdsWatch.Bench -- --filter '*'</summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private byte[][] _lines = [];
    private byte[] _execveBody = [];
    private byte[] _saddr = [];
    private string _capture = "";

    [GlobalSetup]
    public void Setup()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ImdsWatch.slnx")))
            root = root.Parent;
        _capture = Path.Combine(root?.FullName ?? throw new InvalidOperationException("run inside the repository"), "samples", "audit-enriched.log");
        _lines = File.ReadAllLines(_capture).Select(Encoding.UTF8.GetBytes).ToArray();
        _execveBody = Encoding.UTF8.GetBytes("argc=5 a0=\"curl\" a1=\"-s\" a2=\"-m\" a3=\"2\" a4=\"http://169.254.169.254/latest/meta-data/iam/security-credentials/\"");
        _saddr = "02000050A9FEA9FE0000000000000000"u8.ToArray();
    }

    [Benchmark(Description = "record header parse, whole capture")]
    public int ParseHeaders()
    {
        var parser = new AuditRecordParser();
        var n = 0;
        for (var i = 0; i < _lines.Length; i++)
        {
            if (parser.TryParse(_lines[i], 0, i, out _, out _))
                n++;
        }
        return n;
    }

    [Benchmark(Description = "EXECVE fields")]
    public int ExecveFields() => AuditFields.Parse(_execveBody).All.Count;

    [Benchmark(Description = "SOCKADDR decode")]
    public int SockAddrDecode() => SockAddr.DecodeHex(_saddr).Port ?? 0;

    [Benchmark(Description = "hex decode 256 B")]
    public int Hex() => HexField.DecodeToBytes(_saddr.Concat(_saddr).Concat(_saddr).Concat(_saddr).Concat(_saddr).Concat(_saddr).Concat(_saddr).Concat(_saddr).ToArray())!.Length;

    [Benchmark(Description = "reference finder, one URL")]
    public int Finder() => DetectionRules.Default.Finder.Find("http://169.254.169.254/latest/meta-data/iam/security-credentials/").Count;

    [Benchmark(Description = "command-line analysis, curl")]
    public bool Analyze() => DetectionRules.Default.Analyzer.Analyze(["curl", "-s", "-m", "2", "http://169.254.169.254/latest/meta-data/"]).IsAccess;

    private static readonly ImdsWatch.Indicators.ReferenceCandidates Candidates = new(ImdsWatch.Indicators.IndicatorCatalog.Default);
    private static readonly byte[] TypicalExecve = Encoding.UTF8.GetBytes("argc=7 a0=\"grep\" a1=\"-c\" a2=\"--color=auto\" a3=\"/etc/ssl/certs/ca-certificates.crt\" a4=\"-n\" a5=\"10\" a6=\"/var/log/app-2024.log\"");
    private byte[] _captureBytes = [];
    private AuditRecord[] _records = [];
    private ImdsWatch.Sources.Auditd.Prefilter.RecordRun[] _runs = [];

    [GlobalSetup(Targets = [nameof(Classify), nameof(Assemble), nameof(Select)])]
    public void SetupPipeline()
    {
        Setup();
        _captureBytes = File.ReadAllBytes(_capture);
        var parser = new AuditRecordParser();
        _records = _lines.Select((l, i) => parser.TryParse(l, 0, i, out var r, out _) ? r : null).OfType<AuditRecord>().ToArray();
        var summary = new ImdsWatch.Sources.Auditd.Prefilter.BlockSummary();
        new ImdsWatch.Sources.Auditd.Prefilter.AuditBlockClassifier(Candidates).Classify(_captureBytes, 0, summary);
        _runs = [.. summary.Runs];
    }

    [Benchmark(Description = "candidate check, typical EXECVE body")]
    public bool Candidate() => Candidates.MayReference(TypicalExecve);

    [Benchmark(Description = "pass one: classify the capture as one block (0.9 MB)")]
    public int Classify()
    {
        var summary = new ImdsWatch.Sources.Auditd.Prefilter.BlockSummary();
        new ImdsWatch.Sources.Auditd.Prefilter.AuditBlockClassifier(Candidates).Classify(_captureBytes, 0, summary);
        return summary.Runs.Count;
    }

    [Benchmark(Description = "run selector over the capture's runs")]
    public long Select()
    {
        long kept = 0;
        var selector = new ImdsWatch.Sources.Auditd.Prefilter.RunSelector((_, _, keep) => kept += keep ? 1 : 0);
        foreach (var run in _runs)
            selector.Add(run, run.FirstLine);
        selector.Finish();
        return kept;
    }

    [Benchmark(Description = "event assembly, whole capture")]
    public long Assemble()
    {
        long events = 0;
        var assembler = new AuditEventAssembler(_ => events++);
        foreach (var r in _records)
            assembler.Add(r);
        assembler.Flush();
        return events;
    }

    [Benchmark(Description = "whole scan of the capture (0.9 MB), prefiltered")]
    public int Scan() => new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(_capture, _capture)]).Alerts.Count;

    [Benchmark(Description = "whole scan of the capture (0.9 MB), every record parsed")]
    public int ScanFull() => new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan([new InputSource(_capture, _capture)]).Alerts.Count;
}
