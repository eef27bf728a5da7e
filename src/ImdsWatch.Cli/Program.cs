using System.CommandLine;
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
            AgentCommand.Create(stdout, stderr),
        };
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
}
