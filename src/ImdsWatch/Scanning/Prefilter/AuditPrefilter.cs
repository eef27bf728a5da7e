using System.Buffers;
using System.Buffers.Text;
using ImdsWatch.Indicators;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Scanning.Prefilter;

/// <summary>
/// Pass one of a fast scan: reads every line without allocating and selects what the full parser must see —
/// SOCKADDR records that name a metadata address, EXECVE and PROCTITLE records that might reference an endpoint
/// (hex-encoded values decoded; arguments split over records always kept), user-space records, and then every
/// exec of those processes and of their ancestors, so process context, wrappers and agent ancestry come out as
/// the full parser would make them. It may keep too much, never too little.
/// </summary>
public sealed class AuditPrefilter(ReferenceCandidates candidates)
{
    private const int RecentSyscalls = 8192;

    public PrefilterSelection Plan(InputSource source)
    {
        var selection = new PrefilterSelection();
        var parents = new HashSet<(ulong Node, int Pid, int Parent)>();
        var recent = new Dictionary<(ulong Node, ulong Serial), int>();
        var recentOrder = new Queue<(ulong, ulong)>();
        var waiting = new HashSet<(ulong Node, ulong Serial)>();
        var emptyArgv = new HashSet<(ulong Node, ulong Serial)>();
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using var reader = new LineReader(source.Open());
            while (reader.TryReadLine(out var line))
            {
                selection.Lines++;
                if (!AuditRecordParser.TryParseHeader(line, out var h, out _))
                    continue;
                var node = NodeHash(line, h);
                var key = (node, h.Serial);
                var body = line[h.BodyStart..];
                switch (h.Type)
                {
                    case AuditRecordType.Syscall:
                        var pid = IntField(body, " pid="u8);
                        var parent = IntField(body, " ppid="u8);
                        if (pid is not { } p)
                        {
                            Select(selection, waiting, recent, key); // cannot tell: keep it
                            break;
                        }
                        if (parent is { } pp)
                            parents.Add((node, p, pp));
                        recent[key] = p;
                        recentOrder.Enqueue(key);
                        if (recentOrder.Count > RecentSyscalls)
                            recent.Remove(recentOrder.Dequeue());
                        if (waiting.Remove(key))
                            selection.Processes.Add((node, p));
                        break;
                    case AuditRecordType.SockAddr:
                        if (Value(body, "saddr="u8) is { IsEmpty: false } saddr && candidates.IsMetadataSockaddr(saddr))
                            Select(selection, waiting, recent, key);
                        break;
                    case AuditRecordType.Execve:
                        if (body.StartsWith("argc=0"u8) && (body.Length == 6 || body[6] == (byte)' '))
                            emptyArgv.Add(key);
                        else if (body.IndexOf("_len="u8) >= 0 || ExecveMayReference(body, ref buffer))
                            Select(selection, waiting, recent, key);
                        break;
                    case AuditRecordType.Proctitle:
                        // Detection reads PROCTITLE for an exec only when its argv is empty (else EXECVE), and for a
                        // connect only when the connect is to a metadata address (selected by its SOCKADDR).
                        if (emptyArgv.Remove(key) && MayReference(Value(body, "proctitle="u8), ref buffer))
                            Select(selection, waiting, recent, key);
                        break;
                    default:
                        // Other records (PATH, CWD, user-space messages, …) select nothing by themselves: pass two
                        // keeps every record of a selected event, and every record whose event has no SYSCALL.
                        break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        // Hot events whose SYSCALL never came: keep their serials (already in Events). Then all ancestors.
        var byChild = parents.GroupBy(x => (x.Node, x.Pid)).ToDictionary(g => g.Key, g => g.Select(x => x.Parent).ToList());
        var queue = new Queue<(ulong Node, int Pid)>(selection.Processes);
        while (queue.TryDequeue(out var process))
        {
            if (!byChild.TryGetValue(process, out var ancestors))
                continue;
            foreach (var a in ancestors)
            {
                if (selection.Processes.Add((process.Node, a)))
                    queue.Enqueue((process.Node, a));
            }
        }
        return selection;
    }

    private static void Select(PrefilterSelection selection, HashSet<(ulong, ulong)> waiting, Dictionary<(ulong, ulong), int> recent, (ulong Node, ulong Serial) key)
    {
        selection.Events.Add(key);
        if (recent.TryGetValue(key, out var pid))
            selection.Processes.Add((key.Node, pid));
        else
            waiting.Add(key);
    }

    private bool ExecveMayReference(ReadOnlySpan<byte> body, ref byte[] buffer)
    {
        // a0="curl" a1=68747470… : each value quoted (as is) or hex (decoded), checked on its own as the finder does.
        var i = 0;
        while (i < body.Length)
        {
            var eq = body[i..].IndexOf((byte)'=');
            if (eq < 0)
                return false;
            var start = i + eq + 1;
            if (start >= body.Length)
                return false;
            int end;
            ReadOnlySpan<byte> value;
            if (body[start] == (byte)'"')
            {
                var close = body[(start + 1)..].IndexOf((byte)'"');
                end = close < 0 ? body.Length : start + 1 + close + 1;
                value = body[(start + 1)..(close < 0 ? body.Length : start + 1 + close)];
            }
            else
            {
                var space = body[start..].IndexOfAny((byte)' ', (byte)0x1D);
                end = space < 0 ? body.Length : start + space;
                value = body[start..end];
            }
            if (MayReference(value, ref buffer))
                return true;
            i = end;
        }
        return false;
    }

    private bool MayReference(ReadOnlySpan<byte> value, ref byte[] buffer)
    {
        if (value.IsEmpty)
            return false;
        if (HexField.LooksLikeHex(value))
        {
            if (buffer.Length < value.Length / 2)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = ArrayPool<byte>.Shared.Rent(value.Length);
            }
            if (HexField.TryDecode(value, buffer, out var n))
            {
                // PROCTITLE is argv joined by NULs: the finder sees each argument alone.
                foreach (var part in buffer.AsSpan(0, n).Split((byte)0))
                {
                    if (candidates.MayReference(buffer.AsSpan(0, n)[part]))
                        return true;
                }
                return false;
            }
        }
        return candidates.MayReference(value.Length > 0 && value[0] == (byte)'"' ? value.Trim((byte)'"') : value);
    }

    private static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        var at = body.IndexOf(key);
        if (at < 0)
            return default;
        var v = body[(at + key.Length)..];
        var end = v.IndexOfAny((byte)' ', (byte)0x1D);
        return end < 0 ? v : v[..end];
    }

    public static int? PidOf(ReadOnlySpan<byte> syscallBody) => IntField(syscallBody, " pid="u8);

    /// <summary>A numeric field; the key carries its leading space (" pid=" is not the end of " ppid=").</summary>
    private static int? IntField(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        var at = body.IndexOf(key);
        return at >= 0 && Utf8Parser.TryParse(body[(at + key.Length)..], out int v, out _) ? v : null;
    }

    /// <summary>Nodes by a 64-bit FNV-1a hash of their bytes; 0 is "no node".</summary>
    public static ulong NodeHash(ReadOnlySpan<byte> line, in AuditRecordHeader h)
    {
        if (h.NodeLength == 0)
            return 0;
        var hash = 14695981039346656037UL;
        foreach (var b in line.Slice(h.NodeStart, h.NodeLength))
            hash = (hash ^ b) * 1099511628211UL;
        return hash | 1;
    }
}
