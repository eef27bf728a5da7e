using System.Diagnostics;
using System.Security.Cryptography;

namespace ImdsWatch.Fuzz;

/// <summary>
/// The in-process mutation loop over one target: seeds, then mutations of them, each run under a watchdog. A
/// crash (an exception out of the target) or a failed oracle is saved to the findings folder and counted; an input
/// that runs longer than the hang limit is saved and ends the run (a thread cannot be stopped in .NET).
/// </summary>
internal sealed class MutationRun(FuzzTarget target, IReadOnlyList<byte[]> seeds, int seed, string? findings)
{
    public TimeSpan HangLimit { get; init; } = TimeSpan.FromSeconds(10);

    public long Inputs { get; private set; }
    public int Crashes { get; private set; }
    public int Failures { get; private set; }
    public TimeSpan Slowest { get; private set; }
    public long PeakWorkingSet { get; private set; }
    public List<string> Messages { get; } = [];

    public void Run(long maxInputs, TimeSpan maxTime, Scratch scratch)
    {
        var random = new Random(seed);
        var mutator = new Mutator(random);
        var clock = Stopwatch.StartNew();
        var current = Array.Empty<byte>();
        long index = -1;
        using var done = new CancellationTokenSource();
        // A hang is an input that keeps the CPU busy past the limit (the process runs one input at a time), or
        // one that makes no progress for ten limits (a deadlock at 0 % CPU). CPU time, not wall time: on a shared
        // machine a fuzzer under nice 19 may wait seconds for a core.
        var watchdog = new Thread(() =>
        {
            long seen = -2;
            var cpuAtStart = TimeSpan.Zero;
            var wall = Stopwatch.StartNew();
            while (!done.IsCancellationRequested)
            {
                Thread.Sleep(250);
                var now = Interlocked.Read(ref index);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                if (now != seen)
                {
                    seen = now;
                    cpuAtStart = cpu;
                    wall.Restart();
                    continue;
                }
                if (cpu - cpuAtStart > HangLimit || wall.Elapsed > HangLimit * 10)
                {
                    var file = Save("hang", Volatile.Read(ref current));
                    Console.Error.WriteLine($"imdswatch-fuzz: {target.Name}: HANG ({(cpu - cpuAtStart).TotalSeconds:0} s CPU, {wall.Elapsed.TotalSeconds:0} s) on input {now}; saved to {file}");
                    Environment.Exit(3);
                }
            }
        })
        { IsBackground = true, Name = "fuzz watchdog" };
        watchdog.Start();
        try
        {
            for (long i = 0; i < maxInputs && clock.Elapsed < maxTime; i++)
            {
                var input = i < seeds.Count ? seeds[(int)i] : mutator.Mutate(seeds[random.Next(seeds.Count)], seeds);
                Volatile.Write(ref current, input);
                Interlocked.Exchange(ref index, i);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    target.Run(input, scratch);
                }
                catch (FuzzFinding f)
                {
                    Failures++;
                    Record("finding", input, f);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    Crashes++;
                    Record("crash", input, e);
                }
                var took = Stopwatch.GetElapsedTime(started);
                if (took > Slowest)
                {
                    Slowest = took;
                    if (took > TimeSpan.FromSeconds(1))
                        Save("slowest", input); // wall time: may be a slow input, or a busy machine
                }
                Inputs++;
                if ((Inputs & 1023) == 0)
                    PeakWorkingSet = Math.Max(PeakWorkingSet, Environment.WorkingSet);
            }
        }
        finally
        {
            done.Cancel();
            PeakWorkingSet = Math.Max(PeakWorkingSet, Environment.WorkingSet);
        }
    }

    private void Record(string kind, byte[] input, Exception e)
    {
        var file = Save(kind, input);
        var where = e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("ImdsWatch.", StringComparison.Ordinal) && !l.Contains("ImdsWatch.Fuzz", StringComparison.Ordinal))?.Trim();
        var message = $"{target.Name}: {kind}: {e.GetType().Name}: {e.Message} {where}{(file is null ? "" : $" → {file}")}";
        if (Messages.Count < 20 && !Messages.Any(m => m.StartsWith(message[..Math.Min(message.Length, 80)], StringComparison.Ordinal)))
        {
            Messages.Add(message);
            Console.Error.WriteLine($"imdswatch-fuzz: {message}");
        }
    }

    private string? Save(string kind, byte[] input)
    {
        if (findings is null)
            return null;
        Directory.CreateDirectory(findings);
        var path = Path.Combine(findings, $"{kind}-{target.Name}-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}");
        File.WriteAllBytes(path, input);
        return path;
    }
}
