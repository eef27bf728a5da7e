using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;
using ImdsWatch.Cli.Commands;
using ImdsWatch.Config;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Cli;

public static class Program
{
    public const string ExitCodeHelp =
        "Exit codes: 0 done; 1 alerts found with --fail-on-alert (validate: a test failed); 2 usage, input or I/O error; "
        + "70 internal error (please report it); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).";

    public static int Main(string[] args)
    {
        using var signals = Interrupts.Install(Console.Error);
        return Run(args, Console.Out, Console.Error);
    }

    /// <summary>Commands that stop by themselves on SIGINT/SIGTERM; <see cref="Interrupts"/> ends every other one.</summary>
    private static readonly HashSet<string> StopOnTheirOwn = new(StringComparer.Ordinal) { "agent", "emulate", "validate", "run" };

    /// <summary>Runs the command line; the exit codes are <see cref="ExitCodeHelp"/>.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("imdswatch: detect cloud instance metadata service credential theft (MITRE ATT&CK T1552.005)\n" + ExitCodeHelp)
        {
            ScanCommand.Create(stdout, stderr),
            RulesCommand.Create(stdout),
            EventsCommand.Create(stdout, stderr),
            EmulateCommand.Create(stdout, stderr),
            ValidateCommand.Create(stdout, stderr),
            BaselineCommand.Create(stdout, stderr),
            RunCommand.Create(stdout, stderr),
            AlertsCommand.Create(stdout, stderr),
            ExportCommand.Create(stdout, stderr),
            AgentCommand.Create(stdout, stderr),
            ReportCommand.Create(stdout, stderr),
        };
        foreach (var option in root.Options.OfType<VersionOption>())
            option.Action = new PrintVersion(stdout);
        ParseResult parsed;
        try
        {
            parsed = root.Parse(Normalize(args));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            stderr.WriteLine($"imdswatch: {e.Message}");
            stderr.WriteLine("Try 'imdswatch --help'.");
            return ExitCodes.Usage;
        }
        var errors = parsed.Errors.Select(e => e.Message).Concat(UnknownOptions(parsed)).ToList();
        if (errors.Count > 0)
        {
            foreach (var error in errors)
                stderr.WriteLine($"imdswatch: {error}");
            stderr.WriteLine($"Try 'imdswatch {string.Join(' ', CommandPath(parsed.CommandResult))} --help'.".Replace("  ", " ", StringComparison.Ordinal));
            return ExitCodes.Usage;
        }
        Interrupts.CommandStopsItself = StopOnTheirOwn.Contains(parsed.CommandResult.Command.Name);
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (ScanFailedException e)
        {
            stderr.WriteLine($"imdswatch: internal error at {e.File}:{e.Line} ({e.InnerException!.GetType().Name}: {e.InnerException.Message}); the scan stopped (imdswatch {Version}; please report it with that line)");
            if (Environment.GetEnvironmentVariable("IMDSWATCH_DEBUG") == "1")
                stderr.WriteLine(e);
            return ExitCodes.Internal;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug, not something the user did: one line with what to report, never a stack trace
            // (IMDSWATCH_DEBUG=1 shows it).
            stderr.WriteLine($"imdswatch: internal error: {e.GetType().Name}: {e.Message} (imdswatch {Version}; please report this with the command you ran)");
            if (Environment.GetEnvironmentVariable("IMDSWATCH_DEBUG") == "1")
                stderr.WriteLine(e);
            return ExitCodes.Internal;
        }
    }

    private static string Version => VersionText()["imdswatch ".Length..];

    private static readonly HashSet<string> CaseFreeOptions = new(StringComparer.Ordinal) { "--format", "-f", "--min-severity", "--imdsv2", "--audit-format" };

    /// <summary>Values of closed sets in any case (--min-severity HIGH, --format JSON).</summary>
    internal static string[] Normalize(string[] args)
    {
        var result = (string[])args.Clone();
        for (var i = 0; i < result.Length; i++)
        {
            var arg = result[i];
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && arg.StartsWith("--", StringComparison.Ordinal) && CaseFreeOptions.Contains(arg[..eq]))
            {
                result[i] = arg[..(eq + 1)] + arg[(eq + 1)..].ToLowerInvariant();
            }
            else if (CaseFreeOptions.Contains(arg) && i + 1 < result.Length)
            {
                result[i + 1] = result[i + 1].ToLowerInvariant();
                i++;
            }
        }
        return result;
    }

    /// <summary>
    /// A word that starts with '-' where a path was expected is an option this command does not have (a path
    /// that starts with '-' can be given as ./-name); '-' alone is standard input.
    /// </summary>
    private static IEnumerable<string> UnknownOptions(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        var known = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).Append("--help").Distinct(StringComparer.Ordinal).ToList();
        foreach (var token in parsed.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens).Concat(parsed.UnmatchedTokens.Select(t => new Token(t, TokenType.Argument, null!))))
        {
            var value = token.Value;
            if (value.Length < 2 || value[0] != '-' || char.IsDigit(value[1]))
                continue;
            var name = value.Split('=')[0];
            var closest = ClosestName.Of(name, known);
            yield return $"unknown option '{name}' for '{command.Name}'" + (closest is null ? "" : $"; did you mean '{closest}'?");
        }
    }

    private static string[] CommandPath(CommandResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null && r.Command is not RootCommand; r = r.Parent as CommandResult)
            names.Push(r.Command.Name);
        return [.. names];
    }

    /// <summary>
    /// The version (Directory.Build.props) and the commit it was built from: the SDK appends the commit to the
    /// informational version ("0.1.0+6d8a45c…") when it builds from a git checkout.
    /// </summary>
    internal static string VersionText()
    {
        var informational = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? informational : informational[..plus];
        var commit = plus < 0 ? "unknown" : informational[(plus + 1)..];
        return $"imdswatch {version} (commit {(commit.Length > 12 ? commit[..12] : commit)})";
    }

    private sealed class PrintVersion(TextWriter stdout) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            stdout.WriteLine(VersionText());
            return ExitCodes.Ok;
        }
    }
}
