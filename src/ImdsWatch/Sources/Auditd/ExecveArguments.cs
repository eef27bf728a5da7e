using System.Globalization;

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
        Dictionary<int, SortedDictionary<int, string>>? pieces = null;
        foreach (var fields in records)
        {
            // Field by field from the bytes: only the arguments' values become strings.
            for (var n = 0; n < fields.Count; n++)
            {
                if (fields.IsInterpretedAt(n))
                    continue;
                var key = fields.KeyAt(n);
                if (key.SequenceEqual("argc"u8))
                {
                    argc = int.TryParse(fields.ValueAt(n), NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : argc;
                    continue;
                }
                if (key.Length < 2 || key[0] != (byte)'a' || !char.IsAsciiDigit((char)key[1]))
                    continue;
                var bracket = key.IndexOf((byte)'[');
                if (bracket > 0 && key[^1] == (byte)']'
                    && int.TryParse(key[1..bracket], NumberStyles.Integer, CultureInfo.InvariantCulture, out var argIndex)
                    && int.TryParse(key[(bracket + 1)..^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var piece))
                {
                    pieces ??= [];
                    if (!pieces.TryGetValue(argIndex, out var list))
                        pieces[argIndex] = list = [];
                    list[piece] = AuditFields.DecodeUntrusted(fields.ValueAt(n), fields.IsQuotedAt(n)) ?? "";
                }
                else if (int.TryParse(key[1..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var index))
                {
                    whole[index] = AuditFields.DecodeUntrusted(fields.ValueAt(n), fields.IsQuotedAt(n)) ?? "";
                }
            }
        }

        foreach (var (index, list) in pieces ?? [])
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
