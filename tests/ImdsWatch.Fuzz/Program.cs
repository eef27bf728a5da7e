using System.Diagnostics;
using System.Globalization;

namespace ImdsWatch.Fuzz;

/// <summary>
/// imdswatch-fuzz: the fuzz harness (see README.md beside this file).
/// <code>
///   imdswatch-fuzz list
///   imdswatch-fuzz run [--target NAME]... [--inputs N] [--seconds S] [--seed N] [--corpus DIR]... [--findings DIR]
///   imdswatch-fuzz process [--inputs N] [--seconds S] [--seed N] [--corpus DIR]... [--findings DIR] [--imdswatch CMD]
///   imdswatch-fuzz seeds NAME DIR [--corpus DIR]...   (AFL++'s input folder for a target)
///   imdswatch-fuzz replay NAME FILE...   (a target on saved inputs, with the time each takes)
///   imdswatch-fuzz afl NAME              (under afl-fuzz, with ImdsWatch.Core.dll instrumented by sharpfuzz)
/// </code>
/// Exit 0: no crash, no failed oracle; 1: some; 2: usage; 3: a hang (the input is saved).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
            return Usage();
        var named = args.Length >= 2 ? Targets.Named(args[1]) : null;
        Options options;
        try
        {
            options = Options.Parse(args[0] switch { "seeds" => args[Math.Min(3, args.Length)..], "afl" => args[Math.Min(2, args.Length)..], "replay" => [], _ => args[1..] });
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"imdswatch-fuzz: {e.Message}");
            return Usage();
        }
        switch (args[0])
        {
            case "list":
                foreach (var t in Targets.All)
                    Console.WriteLine($"{t.Name,-22} {t.Description}");
                return 0;
            case "run":
                return RunTargets(options);
            case "process":
                return RunProcesses(options);
            case "seeds" when args.Length >= 3 && named is { } target:
                Seeds.Load(Repo.Root, options.Corpora).WriteTo(target.Seeds, args[2]);
                return 0;
            case "replay" when args.Length >= 3 && named is { } target:
                return Replay(target, args[2..]);
            case "afl" when named is { } target:
                using (var scratch = new Scratch())
                {
                    // Exceptions escape: AFL++ counts them as crashes (failed oracles too).
                    SharpFuzz.Fuzzer.OutOfProcess.Run(stream =>
                    {
                        using var buffer = new MemoryStream();
                        stream.CopyTo(buffer);
                        target.Run(buffer.ToArray(), scratch);
                    });
                }
                return 0;
            default:
                return Usage();
        }
    }

    /// <summary>The in-process mutation loop over each target in turn; returns 1 on any crash or failed oracle.</summary>
    public static int RunTargets(Options o, TextWriter? report = null)
    {
        report ??= Console.Out;
        var targets = o.Targets.Count == 0 ? Targets.All : o.Targets.Select(n => Targets.Named(n) ?? throw new ArgumentException($"no target {n}")).ToList();
        var seeds = Seeds.Load(Repo.Root, o.Corpora);
        var total = 0L;
        var bad = 0;
        using var scratch = new Scratch();
        report.WriteLine($"{"target",-22} {"inputs",12} {"crashes",8} {"oracles",8} {"slowest",9} {"peak RSS",9}");
        foreach (var target in targets)
        {
            var run = new MutationRun(target, seeds.Of(target.Seeds), o.Seed, o.Findings);
            run.Run(o.Inputs, o.Time / targets.Count, scratch);
            total += run.Inputs;
            bad += run.Crashes + run.Failures;
            report.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{target.Name,-22} {run.Inputs,12:N0} {run.Crashes,8} {run.Failures,8} {run.Slowest.TotalMilliseconds,7:0} ms {run.PeakWorkingSet >> 20,6} MB"));
            foreach (var m in run.Messages)
                report.WriteLine("  " + m);
        }
        report.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"total",-22} {total,12:N0}   seed {o.Seed}"));
        return bad == 0 ? 0 : 1;
    }

    private static int RunProcesses(Options o)
    {
        var files = new List<string>();
        var samples = Path.Combine(Repo.Root, "samples");
        files.AddRange(Directory.EnumerateFiles(samples, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".sh", StringComparison.Ordinal) && !f.EndsWith(".md", StringComparison.Ordinal) && !f.EndsWith(".txt", StringComparison.Ordinal)));
        files.AddRange(Directory.EnumerateFiles(Path.Combine(Repo.Root, "tests", "ImdsWatch.Tests", "Regressions")));
        foreach (var corpus in o.Corpora.Where(Directory.Exists))
            files.AddRange(Directory.EnumerateFiles(corpus, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".md", StringComparison.Ordinal) && !f.EndsWith(".golden", StringComparison.Ordinal)));
        files.Sort(StringComparer.Ordinal);
        var command = o.Command ?? ["dotnet", Path.Combine(Repo.Root, "src", "ImdsWatch.Cli", "bin", "Release", "net10.0", "imdswatch.dll")];
        using var scratch = new Scratch();
        var run = new ProcessRun(files, command, o.Seed, o.Findings);
        var clock = Stopwatch.StartNew();
        run.Run(o.Inputs, o.Time, scratch);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"process: {run.Inputs:N0} inputs from {files.Count} files in {clock.Elapsed.TotalMinutes:0.0} min, {run.Crashes} crashes, {run.Hangs} hangs, peak RSS {run.PeakRssKb >> 10} MB (heap limit {run.HeapLimitBytes >> 20} MB), seed {o.Seed}"));
        foreach (var m in run.Messages)
            Console.WriteLine("  " + m);
        return run.Crashes + run.Hangs == 0 ? 0 : 1;
    }

    /// <summary>Runs a target on saved inputs (findings, AFL++ crashes), twice each: the second time without JIT.</summary>
    private static int Replay(FuzzTarget target, string[] files)
    {
        using var scratch = new Scratch();
        var bad = 0;
        foreach (var file in files)
        {
            var input = File.ReadAllBytes(file);
            for (var round = 0; round < 2; round++)
            {
                var clock = Stopwatch.StartNew();
                string outcome;
                try
                {
                    target.Run(input, scratch);
                    outcome = "ok";
                }
                catch (Exception e)
                {
                    outcome = $"{e.GetType().Name}: {e.Message}";
                    bad += round;
                }
                if (round == 1)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file}: {input.Length} bytes, {clock.Elapsed.TotalMilliseconds:0.0} ms, {outcome}"));
            }
        }
        return bad == 0 ? 0 : 1;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: imdswatch-fuzz list | run [--target NAME]... [--inputs N] [--seconds S] [--seed N] [--corpus DIR]... [--findings DIR]");
        Console.Error.WriteLine("       imdswatch-fuzz process [--inputs N] [--seconds S] [--seed N] [--corpus DIR]... [--findings DIR] [--imdswatch CMD]");
        Console.Error.WriteLine("       imdswatch-fuzz seeds NAME DIR [--corpus DIR]... | replay NAME FILE... | afl NAME");
        return 2;
    }
}
