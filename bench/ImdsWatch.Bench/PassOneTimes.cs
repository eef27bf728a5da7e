using System.Diagnostics;
using ImdsWatch.Detection;
using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Input;

/// <summary>
/// The prefiltered scan's two costs, best of N in process CPU time (robust to a loaded machine): pass one alone on
/// one core, and the whole prefiltered scan (dotnet … passone FILE [N]).
/// </summary>
public static class PassOneTimes
{
    public static void Run(string file, int reps)
    {
        var mb = new FileInfo(file).Length / 1e6;
        var candidates = new ReferenceCandidates(IndicatorCatalog.Default);
        Best("pass one, 1 core", mb, reps, () =>
        {
            long runs = 0;
            using var handle = File.OpenHandle(file);
            new ImdsWatch.Sources.Auditd.Prefilter.ParallelBlockPass(candidates, 1).Run(handle, 0, RandomAccess.GetLength(handle), b => runs += b.Runs.Count);
            return runs;
        });
        Best("whole prefiltered scan", mb, reps, () => new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(file, file)]).Alerts.Count);
    }

    private static void Best(string stage, double mb, int reps, Func<long> work)
    {
        var bestCpu = double.MaxValue;
        var bestWall = double.MaxValue;
        long n = 0;
        for (var i = 0; i < reps; i++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            n = work();
            bestWall = Math.Min(bestWall, clock.Elapsed.TotalSeconds);
            bestCpu = Math.Min(bestCpu, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }
        Console.WriteLine($"{stage,-28} CPU {bestCpu,6:0.000} s  wall {bestWall,6:0.000} s  {mb / bestCpu,6:0} MB/s CPU  ({n})");
    }
}
