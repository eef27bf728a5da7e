using Spectre.Console;

namespace ImdsWatch.Cli.Commands;

/// <summary>A Spectre console on the given writer: colours on a terminal, plain and wide when redirected.</summary>
internal static class TableConsole
{
    public static IAnsiConsole For(TextWriter output)
    {
        var redirected = Console.IsOutputRedirected || !ReferenceEquals(output, Console.Out);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        });
        if (redirected)
            console.Profile.Width = 200;
        return console;
    }
}
