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
        var started = Stopwatch.GetTimestamp();
        var running = 0;
        using var done = new CancellationTokenSource();
        var watchdog = new Thread(() =>
        {
            while (!done.IsCancellationRequested)
            {
                Thread.Sleep(200);
                if (Volatile.Read(ref running) == 1 && Stopwatch.GetElapsedTime(Interlocked.Read(ref started)) > HangLimit)
                {
                    var file = Save("hang", Volatile.Read(ref current));
                    Console.Error.WriteLine($"imdswatch-fuzz: {target.Name}: HANG over {HangLimit.TotalSeconds:0} s; input saved to {file}");
                    Environment.Exit(3);
                }
            }
        }) { IsBackground = true, Name = "fuzz watchdog" };
        watchdog.Start();
        try
        {
            for (long i = 0; i < maxInputs && clock.Elapsed < maxTime; i++)
            {
                var input = i < seeds.Count ? seeds[(int)i] : mutator.Mutate(seeds[random.Next(seeds.Count)], seeds);
                Volatile.Write(ref current, input);
                Interlocked.Exchange(ref started, Stopwatch.GetTimestamp());
                Volatile.Write(ref running, 1);
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
                Volatile.Write(ref running, 0);
                var took = Stopwatch.GetElapsedTime(Interlocked.Read(ref started));
                if (took > Slowest)
                    Slowest = took;
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
