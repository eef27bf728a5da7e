using System.Diagnostics;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

/// <summary>
/// The full parser alone (read, parse, assemble, normalize; no rules): the thread that bounds a
/// <c>--no-prefilter</c>, <c>.gz</c> or syslog scan. <c>dotnet … fullparser FILE [N]</c> reads FILE N times (plain
/// or gzip) and prints, per run and best of all, wall and CPU time, MB/s, the bytes allocated and the collections.
/// </summary>
public static class FullParserTimes
{
    public static void Run(string file, int runs)
    {
        var input = new InputSource(file, file);
        var mb = new FileInfo(File.ResolveLinkTarget(file, returnFinalTarget: true)?.FullName ?? file).Length / 1e6;
        Console.WriteLine($"full parser, {file}: {mb:0.0} MB on disk, {runs} run(s), GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
        double bestWall = double.MaxValue, bestCpu = double.MaxValue;
        for (var run = 1; run <= runs; run++)
        {
            long events = 0, issues = 0;
            var context = new SourceContext(0, file, null, _ => events++, (_, _) => issues++, new SyntheticSequence());
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var collections = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            new AuditLogSource().Read(input, context, CancellationToken.None);
            var wall = clock.Elapsed.TotalSeconds;
            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            var bytes = context.Stats.Bytes / 1e6;
            Console.WriteLine(
                $"run {run}: {wall,6:0.00} s wall {used,6:0.00} s CPU {bytes / wall,6:0} MB/s  {context.Stats.Records} records {context.Stats.Events} events "
                + $"{events} normalized {issues} issues  allocated {allocated / 1e6:0} MB ({(double)allocated / context.Stats.Records:0} B/record)  "
                + $"GC {GC.CollectionCount(0) - collections.Item1}/{GC.CollectionCount(1) - collections.Item2}/{GC.CollectionCount(2) - collections.Item3}");
            bestWall = Math.Min(bestWall, wall);
            bestCpu = Math.Min(bestCpu, used);
        }
        Console.WriteLine($"best: {bestWall:0.00} s wall, {bestCpu:0.00} s CPU");
    }
}
