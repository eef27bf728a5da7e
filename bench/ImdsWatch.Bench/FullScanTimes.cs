using System.Diagnostics;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;

/// <summary>
/// A whole scan of one file by the full parser, rules and all, as <c>scan --no-prefilter</c> runs it (the path of
/// syslog-relayed audit, <c>run</c> and the agent): <c>dotnet … fullscan FILE [N]</c> scans FILE N times and prints,
/// per run and best of all, wall and CPU time, MB/s, the alerts, the bytes allocated and the collections.
/// </summary>
public static class FullScanTimes
{
    public static void Run(string file, int runs)
    {
        var mb = new FileInfo(File.ResolveLinkTarget(file, returnFinalTarget: true)?.FullName ?? file).Length / 1e6;
        Console.WriteLine($"full scan (--no-prefilter), {file}: {mb:0.0} MB, {runs} run(s), GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
        double bestWall = double.MaxValue, bestCpu = double.MaxValue;
        for (var run = 1; run <= runs; run++)
        {
            var pipeline = new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false };
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var collections = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var result = pipeline.Run([new InputSource(file, file)], NullSink.Instance);
            var wall = clock.Elapsed.TotalSeconds;
            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            Console.WriteLine(
                $"run {run}: {wall,6:0.00} s wall {used,6:0.00} s CPU {mb / wall,6:0} MB/s  {result.Records} records {result.Events} events "
                + $"{result.Tally.Total} alerts {result.IssueCount} issues  allocated {allocated / 1e6:0} MB ({(double)allocated / Math.Max(1, result.Records):0} B/record)  "
                + $"GC {GC.CollectionCount(0) - collections.Item1}/{GC.CollectionCount(1) - collections.Item2}/{GC.CollectionCount(2) - collections.Item3}");
            bestWall = Math.Min(bestWall, wall);
            bestCpu = Math.Min(bestCpu, used);
        }
        Console.WriteLine($"best: {bestWall:0.00} s wall, {bestCpu:0.00} s CPU");
    }
}
