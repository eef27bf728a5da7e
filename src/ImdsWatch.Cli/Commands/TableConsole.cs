using System.Globalization;
using System.Runtime.InteropServices;
using Spectre.Console;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// A Spectre console on the given writer: colours and the window's width on a terminal; plain, and as wide as
/// COLUMNS says (else 120), when redirected.
/// </summary>
internal static class TableConsole
{
    public const int DefaultWidth = 120;

    public static IAnsiConsole For(TextWriter output)
    {
        var redirected = Console.IsOutputRedirected || !ReferenceEquals(output, Console.Out);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        });
        console.Profile.Width = Width(redirected, Environment.GetEnvironmentVariable("COLUMNS"));
        return console;
    }

    /// <summary>The window's width at a terminal, else COLUMNS when it is a number from 20 up, else 120.</summary>
    internal static int Width(bool redirected, string? columns)
    {
        if (!redirected)
        {
            try
            {
                if (Console.WindowWidth >= 20)
                    return Console.WindowWidth;
            }
            catch (IOException)
            {
                // no window after all: as redirected
            }
        }
        return int.TryParse(columns, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 20 ? Math.Min(n, 1000) : DefaultWidth;
    }

    /// <summary>
    /// While a progress display has hidden the cursor: Ctrl-C or a TERM shows it again before the process ends
    /// (the default action still follows, so the command stops as it did).
    /// </summary>
    public static IDisposable RestoreCursorOnExit(TextWriter terminal)
    {
        void Show(PosixSignalContext _)
        {
            terminal.Write("\u001b[?25h");
            terminal.Flush();
        }
        return new Registrations(PosixSignalRegistration.Create(PosixSignal.SIGINT, Show), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Show));
    }

    private sealed class Registrations(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items)
                item.Dispose();
        }
    }
}
