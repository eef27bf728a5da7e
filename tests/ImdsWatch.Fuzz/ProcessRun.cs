using System.Diagnostics;
using System.Security.Cryptography;

namespace ImdsWatch.Fuzz;

/// <summary>
/// Whole-process mode: mutated copies of real log files (samples/, the corpora) scanned by the real command, one
/// process each, with and without the prefilter. A crash is an exit code other than 0 or 2 (70 is "internal
/// error"), a stack trace on stderr, or a signal; a hang is a scan over the time limit; memory is bounded by
/// DOTNET_GCHeapHardLimit (an input that needs more ends the process: a crash) and the peak RSS is recorded.
/// </summary>
internal sealed class ProcessRun(IReadOnlyList<string> files, string[] command, int seed, string? findings)
{
    public TimeSpan HangLimit { get; init; } = TimeSpan.FromSeconds(20);
    public long HeapLimitBytes { get; init; } = 512L << 20;

    public long Inputs { get; private set; }
    public int Crashes { get; private set; }
    public int Hangs { get; private set; }
    public long PeakRssKb { get; private set; }
    public List<string> Messages { get; } = [];

    public void Run(long maxInputs, TimeSpan maxTime, Scratch scratch)
    {
        var random = new Random(seed);
        var mutator = new Mutator(random, maxLength: 2 << 20);
        var originals = files.Select(f => File.ReadAllBytes(f) is var b && b.Length > (1 << 20) ? b[..(1 << 20)] : b).ToList();
        var clock = Stopwatch.StartNew();
        for (long i = 0; i < maxInputs && clock.Elapsed < maxTime; i++)
        {
            var which = random.Next(originals.Count);
            var input = mutator.Mutate(originals[which], originals);
            var path = scratch.Write("input" + Path.GetExtension(files[which]), input);
            var prefilter = random.Next(2) == 0;
            Check(input, RunOne(path, prefilter, scratch.Directory), prefilter);
            Inputs++;
        }
    }

    private (int Exit, string Stderr, bool TimedOut, long RssKb) RunOne(string path, bool prefilter, string state)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in command.Skip(1))
            start.ArgumentList.Add(a);
        foreach (var a in new[] { "scan", "--format", "ndjson", "--no-baseline", path })
            start.ArgumentList.Add(a);
        if (!prefilter)
            start.ArgumentList.Add("--no-prefilter");
        start.Environment["DOTNET_GCHeapHardLimit"] = $"0x{HeapLimitBytes:X}";
        start.Environment["XDG_STATE_HOME"] = state;
        start.Environment["DOTNET_TieredPGO"] = "0";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
        long rss = 0;
        var clock = Stopwatch.StartNew();
        while (!process.WaitForExit(25))
        {
            rss = Math.Max(rss, HighWaterMarkKb(process.Id));
            // CPU time, not wall time (a nice 19 child on a busy machine waits for a core); ten limits of wall
            // time catch a deadlock at 0 % CPU.
            if (CpuTime(process) > HangLimit || clock.Elapsed > HangLimit * 10)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (-1, stderr.Result, true, rss);
            }
        }
        stdout.Wait();
        return (process.ExitCode, stderr.Result, false, rss);
    }

    private void Check(byte[] input, (int Exit, string Stderr, bool TimedOut, long RssKb) r, bool prefilter)
    {
        PeakRssKb = Math.Max(PeakRssKb, r.RssKb);
        string? problem = null;
        if (r.TimedOut)
        {
            Hangs++;
            problem = $"hang over {HangLimit.TotalSeconds:0} s of CPU";
        }
        else if ((r.Exit is not (0 or 2)) || r.Stderr.Contains("Unhandled exception", StringComparison.Ordinal) || r.Stderr.Contains("   at ", StringComparison.Ordinal))
        {
            Crashes++;
            problem = $"exit {r.Exit}: {r.Stderr.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("exception", StringComparison.OrdinalIgnoreCase))?.Trim()}";
        }
        if (problem is null)
            return;
        var file = findings is null ? null : Path.Combine(findings, $"process-{Convert.ToHexStringLower(SHA256.HashData(input))[..16]}");
        if (file is not null)
        {
            Directory.CreateDirectory(findings!);
            File.WriteAllBytes(file, input);
        }
        var message = $"process{(prefilter ? "" : " --no-prefilter")}: {problem}{(file is null ? "" : $" → {file}")}";
        if (Messages.Count < 20)
            Messages.Add(message);
        Console.Error.WriteLine($"imdswatch-fuzz: {message}");
    }

    private static TimeSpan CpuTime(Process process)
    {
        try
        {
            return process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero; // exited meanwhile
        }
    }

    /// <summary>VmHWM of a running process (its peak resident set so far), 0 once it is gone.</summary>
    private static long HighWaterMarkKb(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return 0;
    }
}
