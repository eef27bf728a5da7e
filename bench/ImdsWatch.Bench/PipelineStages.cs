using System.Diagnostics;
using ImdsWatch.Detection;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

/// <summary>Where the time of a scan goes: each stage of the pipeline added in turn over one file (dotnet … stages FILE).</summary>
public static class PipelineStages
{
    public static void Run(string file)
    {
        var mb = new FileInfo(file).Length / 1e6;
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
            return det.Complete().Count;
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
