namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Rebuilds argv from one or more EXECVE records: <c>argc=N a0=.. a1=..</c>, where an argument too long for
/// one record is split as <c>aN_len=L aN[0]=.. aN[1]=..</c> and the fields of one exec may run over several
/// records (kernel/auditsc.c, audit_log_execve_info). Each piece is quoted or hex-encoded independently.
/// </summary>
public static class ExecveArguments
{
    public static IReadOnlyList<string> Rebuild(IEnumerable<AuditFields> records, out string? problem)
    {
        problem = null;
        var argc = -1;
        var whole = new Dictionary<int, string>();
        var pieces = new Dictionary<int, SortedDictionary<int, string>>();
        foreach (var fields in records)
        {
            foreach (var f in fields.All)
            {
                if (f.Interpreted)
                    continue;
                if (f.Key == "argc")
                {
                    argc = int.TryParse(f.Value, out var n) ? n : argc;
                    continue;
                }
                if (f.Key.Length < 2 || f.Key[0] != 'a' || !char.IsAsciiDigit(f.Key[1]))
                    continue;
                var bracket = f.Key.IndexOf('[', StringComparison.Ordinal);
                if (bracket > 0 && f.Key.EndsWith(']')
                    && int.TryParse(f.Key.AsSpan(1, bracket - 1), out var argIndex)
                    && int.TryParse(f.Key.AsSpan(bracket + 1, f.Key.Length - bracket - 2), out var piece))
                {
                    if (!pieces.TryGetValue(argIndex, out var list))
                        pieces[argIndex] = list = [];
                    list[piece] = f.DecodeUntrusted() ?? "";
                }
                else if (int.TryParse(f.Key.AsSpan(1), out var index))
                {
                    whole[index] = f.DecodeUntrusted() ?? "";
                }
            }
        }

        foreach (var (index, list) in pieces)
            whole[index] = string.Concat(list.Values);

        var count = argc >= 0 ? argc : (whole.Count == 0 ? 0 : whole.Keys.Max() + 1);
        if (count > 100_000)
        {
            problem = $"argc={count} is implausible";
            count = whole.Count == 0 ? 0 : whole.Keys.Max() + 1;
        }
        var args = new string[count];
        var missing = 0;
        for (var i = 0; i < count; i++)
        {
            if (whole.TryGetValue(i, out var a))
                args[i] = a;
            else
            {
                args[i] = "";
                missing++;
            }
        }
        if (missing > 0)
            problem = $"EXECVE has argc={count} but {missing} argument(s) missing";
        return args;
    }

    /// <summary>PROCTITLE is argv joined by NUL bytes (hex-encoded), or one quoted string.</summary>
    public static IReadOnlyList<string> FromProctitle(string? decoded)
    {
        if (string.IsNullOrEmpty(decoded))
            return [];
        return decoded.TrimEnd('\0').Split('\0');
    }
}
