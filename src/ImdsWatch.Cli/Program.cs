using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using ImdsWatch.Cli.Commands;

namespace ImdsWatch.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line; exit 0 ok, 1 alerts with --fail-on-alert or a failed check, 2 usage or I/O error.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("imdswatch: detect cloud instance metadata service credential theft (MITRE ATT&CK T1552.005)")
        {
            ScanCommand.Create(stdout, stderr),
            RulesCommand.Create(stdout),
            EventsCommand.Create(stdout, stderr),
            EmulateCommand.Create(stdout, stderr),
            ValidateCommand.Create(stdout, stderr),
            BaselineCommand.Create(stdout, stderr),
            RunCommand.Create(stdout, stderr),
            AlertsCommand.Create(stdout, stderr),
        };
        foreach (var option in root.Options.OfType<VersionOption>())
            option.Action = new PrintVersion(stdout);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
                stderr.WriteLine($"imdswatch: {error.Message}");
            stderr.WriteLine("Try 'imdswatch --help'.");
            return ExitCodes.Usage;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
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
