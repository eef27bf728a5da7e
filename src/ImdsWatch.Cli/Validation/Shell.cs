using System.Diagnostics;

namespace ImdsWatch.Cli.Validation;

/// <summary>Runs system commands (ip, auditctl, auditd) with a time limit and captured output.</summary>
public static class Shell
{
    public const string SafePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public sealed record Result(int ExitCode, string Stdout, string Stderr, bool TimedOut)
    {
        public bool Ok => ExitCode == 0 && !TimedOut;
    }

    public static Result Run(string file, IEnumerable<string> args, TimeSpan? timeout = null, IDictionary<string, string>? env = null,
        CancellationToken cancellation = default)
    {
        using var p = Start(file, args, env, redirectInput: false);
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var finished = false;
        while (!finished && deadline.Elapsed < limit && !cancellation.IsCancellationRequested)
            finished = p.WaitForExit(200);
        if (!finished)
        {
            try
            {
                p.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            p.WaitForExit();
        }
        return new Result(finished ? p.ExitCode : -1, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult(), !finished);
    }

    public static Result Check(string file, params string[] args)
    {
        var r = Run(file, args);
        if (!r.Ok)
            throw new ValidationSetupException($"'{file} {string.Join(' ', args)}' failed (exit {r.ExitCode}): {r.Stderr.Trim()}{r.Stdout.Trim()}");
        return r;
    }

    public static Process Start(string file, IEnumerable<string> args, IDictionary<string, string>? env = null, bool redirectInput = false)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["PATH"] = SafePath;
        psi.Environment["LC_ALL"] = "C";
        if (env is not null)
        {
            foreach (var (k, v) in env)
                psi.Environment[k] = v;
        }
        return Process.Start(psi) ?? throw new ValidationSetupException($"cannot start {file}");
    }

    public static string? Which(string program)
    {
        foreach (var dir in SafePath.Split(':'))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}

public sealed class ValidationSetupException(string message) : Exception(message);
