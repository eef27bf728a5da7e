using System.Runtime.InteropServices;

namespace ImdsWatch.Cli;

/// <summary>
/// SIGINT and SIGTERM for the whole process (a signal is process-wide, hence the static state): a command that
/// stops by itself on them (the agent drains its spool, run finishes or abandons its run, validate removes its
/// rules) watches <see cref="Token"/> (a linked token source), which also carries a signal that came before the
/// command was ready for it, and ends with <see cref="ExitCode"/> and one line of its own; any other command (scan, events, baseline …) is ended here with
/// one line and the shell's codes, 130 for SIGINT and 143 for SIGTERM. Exit handlers still run (the stdin spool
/// is removed); nothing a command stores is half-written, since the state commits in transactions.
/// </summary>
internal static class Interrupts
{
    private static readonly CancellationTokenSource Stopping = new();
    private static int _stopsItself;
    private static int _received;

    /// <summary>Cancelled by the first SIGINT or SIGTERM (also one that came before the command was ready for it).</summary>
    public static CancellationToken Token => Stopping.Token;

    /// <summary>The first signal received, if any.</summary>
    public static PosixSignal? Received => Volatile.Read(ref _received) is var r and not 0 ? (PosixSignal)r : null;

    /// <summary>Set once the command is known: true for a command that handles the signals itself.</summary>
    public static bool CommandStopsItself
    {
        get => Volatile.Read(ref _stopsItself) == 1;
        set => Volatile.Write(ref _stopsItself, value ? 1 : 0);
    }

    public static int ExitCode(PosixSignal signal) => signal == PosixSignal.SIGINT ? ExitCodes.Interrupted : ExitCodes.Terminated;

    public static string Name(PosixSignal signal) => signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM";

    /// <summary>Handles both signals until disposed (Main only: tests run commands in-process, and keep their own).</summary>
    public static IDisposable Install(TextWriter stderr)
    {
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            Interlocked.CompareExchange(ref _received, (int)context.Signal, 0);
            Stopping.Cancel();
            if (CommandStopsItself)
                return;
            stderr.WriteLine($"imdswatch: {(context.Signal == PosixSignal.SIGINT ? "interrupted" : "terminated")} by {Name(context.Signal)}; stopped");
            stderr.Flush();
            Environment.Exit(ExitCode(context.Signal));
        }
        return new Registrations(PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop));
    }

    private sealed class Registrations(params PosixSignalRegistration[] all) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in all)
                r.Dispose();
        }
    }
}
