using ImdsWatch.Detection;
using ImdsWatch.Events;

namespace ImdsWatch.Anomaly;

/// <summary>
/// What counts as "the same program" for a baseline: the executable; for an interpreter, the script it runs
/// (python3 worker.py is not python3 other.py); for a one-liner (python3 -c, bash -c, perl -e), the code itself.
/// </summary>
public static class ProgramIdentity
{
    public static string Key(ProcessSnapshot p, CommandAnalysis analysis, string? script)
    {
        var exe = p.Executable ?? p.Name ?? "?";
        if (analysis.InlineCode is { } code && analysis.Role is ProgramRole.InterpreterOneLiner or ProgramRole.ShellOneLiner)
        {
            var collapsed = string.Join(' ', code.Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
            return $"{exe} -c {(collapsed.Length > 160 ? collapsed[..160] : collapsed)}";
        }
        if (script is not null && analysis.Role is ProgramRole.Interpreter or ProgramRole.Shell or ProgramRole.WebServer)
            return $"{exe} {script}";
        return exe;
    }
}
