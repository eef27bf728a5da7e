using System.Globalization;
using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Rebuilds argv from one or more EXECVE records: <c>argc=N a0=.. a1=..</c>, where an argument too long for
/// one record is split as <c>aN_len=L aN[0]=.. aN[1]=..</c> and the fields of one exec may run over several
/// records (kernel/auditsc.c, audit_log_execve_info). Each piece is quoted or hex-encoded independently.
/// </summary>
public static class ExecveArguments
{
    private const int MaxArguments = 100_000;
    private const int MaxMissing = 1024;

    public static IReadOnlyList<string> Rebuild(IEnumerable<AuditFields> records, out string? problem) =>
        Rebuild([.. records], [], out problem);

    /// <param name="records">The EXECVE records of one exec, in order.</param>
    /// <param name="whole">Room for the arguments by index, cleared and reused from exec to exec.</param>
    /// <param name="problem">What was wrong with the records, or null.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static string[] Rebuild(List<AuditFields> records, Dictionary<int, string> whole, out string? problem)
    {
        problem = null;
        var argc = -1;
        whole.Clear();
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
                    list[piece] = fields.DecodeUntrustedAt(n) ?? "";
                }
                else if (int.TryParse(key[1..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var index))
                {
                    whole[index] = fields.DecodeUntrustedAt(n) ?? "";
                }
            }
        }

        foreach (var (index, list) in pieces ?? [])
            whole[index] = string.Concat(list.Values);

        var count = argc >= 0 ? argc : (whole.Count == 0 ? 0 : whole.Keys.Max() + 1);
        // argv is as long as argc says, or as its highest aN; a damaged record (a1844674400=…, argc=999999999) must
        // not make an array of billions: at most MaxMissing arguments are taken to be lost, and never more than
        // MaxArguments in all (found by fuzzing: 14 GB for one line).
        var plausible = Math.Min(MaxArguments, whole.Count + MaxMissing);
        if (count > plausible)
        {
            problem = $"argc={count} is implausible for {whole.Count} argument(s) recorded";
            count = Math.Min(plausible, whole.Count == 0 ? 0 : whole.Keys.Where(k => k < plausible).DefaultIfEmpty(-1).Max() + 1);
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
        if (whole.Count > 4096)
        {
            whole.Clear();
            whole.TrimExcess(); // one exec of many arguments must not keep the room for every later one
        }
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
