using System.Diagnostics;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

/// <summary>Where the time of a scan goes: each stage of the pipeline added in turn over one file (dotnet … stages FILE).</summary>
public static class PipelineStages
{
    public static void Run(string file)
    {
        var mb = new FileInfo(file).Length / 1e6;
        var execves = new List<byte[]>();
        using (var r = new LineReader(File.OpenRead(file)))
        {
            while (r.TryReadLine(out var line))
            {
                if (AuditRecordParser.TryParseHeader(line, out var h, out _) && h.Type == AuditRecordType.Execve)
                    execves.Add(line[h.BodyStart..].ToArray());
            }
        }
        var candidates = new ImdsWatch.Indicators.ReferenceCandidates(ImdsWatch.Indicators.IndicatorCatalog.Default);
        Time("headers only", mb, () =>
        {
            using var r = new LineReader(File.OpenRead(file));
            long n = 0;
            while (r.TryReadLine(out var line))
            {
                if (AuditRecordParser.TryParseHeader(line, out _, out _))
                    n++;
            }
            return n;
        });
        Time($"candidate check of {execves.Count} EXECVE bodies", mb, () => execves.Count(b => candidates.MayReference(b)));
        foreach (var workers in new[] { 1, 0 })
        {
            Time($"pass one, classify blocks ({(workers == 0 ? "all cores" : "1 core")})", mb, () =>
            {
                long runs = 0;
                using var handle = File.OpenHandle(file);
                new ImdsWatch.Sources.Auditd.Prefilter.ParallelBlockPass(candidates, workers).Run(handle, 0, RandomAccess.GetLength(handle), b => runs += b.Runs.Count);
                return runs;
            });
        }
        Time("whole prefiltered scan", mb, () => new ImdsWatch.Pipeline.DetectionPipeline(DetectionRules.Default).Scan([new InputSource(file, file)]).Alerts.Count);
        Time("whole full scan", mb, () => new ImdsWatch.Pipeline.DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }.Scan([new InputSource(file, file)]).Alerts.Count);
        Time("read lines", mb, () =>
        {
            using var r = new LineReader(File.OpenRead(file));
            long n = 0;
            while (r.TryReadLine(out _))
                n++;
            return n;
        });
        Time("+ parse record headers (copies bodies)", mb, () =>
        {
            using var r = new LineReader(File.OpenRead(file));
            var p = new AuditRecordParser();
            long n = 0;
            while (r.TryReadLine(out var line))
            {
                if (p.TryParse(line, 0, r.LineNumber, out _, out _))
                    n++;
            }
            return n;
        });
        Time("+ assemble events", mb, () =>
        {
            long n = 0;
            var a = new AuditEventAssembler(_ => n++);
            Feed(file, a);
            return n;
        });
        Time("+ normalize exec/connect", mb, () =>
        {
            long n = 0;
            var norm = new AuditEventNormalizer(_ => file, null, _ => { });
            var a = new AuditEventAssembler(e => n += norm.Normalize(e).Count());
            Feed(file, a);
            return n;
        });
        Time("+ detect (whole scan)", mb, () =>
        {
            var det = new MetadataAccessDetector(DetectionRules.Default);
            var norm = new AuditEventNormalizer(_ => file, null, _ => { });
            var a = new AuditEventAssembler(e =>
            {
                foreach (var h in norm.Normalize(e))
                    det.Observe(h);
            });
            Feed(file, a);
            return det.CompleteAll().Alerts.Count;
        });
    }

    private static void Feed(string file, AuditEventAssembler a)
    {
        using var r = new LineReader(File.OpenRead(file));
        var p = new AuditRecordParser();
        while (r.TryReadLine(out var line))
        {
            if (p.TryParse(line, 0, r.LineNumber, out var rec, out _))
                a.Add(rec!);
        }
        a.Flush();
    }

    private static void Time(string stage, double mb, Func<long> work)
    {
        var clock = Stopwatch.StartNew();
        var n = work();
        Console.WriteLine($"{stage,-42} {clock.Elapsed.TotalSeconds,7:0.00} s {mb / clock.Elapsed.TotalSeconds,8:0} MB/s  ({n})");
    }
}
