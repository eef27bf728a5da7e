using ImdsWatch.Cli;

namespace ImdsWatch.Tests.Support;

/// <summary>The command line run in this process, with what it printed.</summary>
public static class CliRun
{
    public static (int Exit, string Out, string Err) Of(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = Program.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
