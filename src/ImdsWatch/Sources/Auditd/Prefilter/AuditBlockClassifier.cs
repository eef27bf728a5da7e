using System.Buffers.Text;
using System.Runtime.CompilerServices;
using ImdsWatch.Indicators;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// Pass one over a block of an audit log, without allocating: splits it into runs of one event's records and
/// notes in each what can make the event matter — a SOCKADDR naming a metadata address, an EXECVE or PROCTITLE
/// that might reference an endpoint (hex values decoded; split arguments always kept), a SYSCALL without a pid —
/// and the pid and ppid that tie it to its process. It may flag too much, never too little.
/// </summary>
public sealed class AuditBlockClassifier(ReferenceCandidates candidates)
{
    private byte[] _decoded = new byte[16 * 1024];
    private readonly HashSet<ulong> _knownNodes = [];
    private int _recordsToFirstEnd; // the run's records up to and with its first EOE
    private int _ends; // the EOEs of the run from its first on

    /// <summary>Classifies <paramref name="data"/>, whole lines that start at file offset <paramref name="offset"/>.</summary>
    // The hot methods of both passes are compiled optimized at once (AggressiveOptimization): a JIT build (dotnet tool,
    // dotnet run) would otherwise run them through tier 0, on-stack replacement and PGO instrumentation, and JIT them
    // two or three times while they run — most of its extra CPU time against the native build (docs/performance.md).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Classify(ReadOnlySpan<byte> data, long offset, BlockSummary summary)
    {
        var run = default(RecordRun);
        var inRun = false;
        var runNodeStart = 0;
        var runNodeLength = 0;
        var previous = default(AuditRecordHeader);
        var previousStart = 0;
        var pos = 0;
        var line = 0;
        var lastNewline = -1;
        var lastNewlineEnd = 0;
        var syscallStart = -1; // the body of the run's SYSCALL record, read when the run is complete
        var syscallLength = 0;
        long records = 0;
        var newest = summary.NewestMilliseconds;
        while (pos < data.Length)
        {
            var newline = data[pos..].IndexOf((byte)'\n');
            var end = newline < 0 ? data.Length : pos + newline;
            var next = newline < 0 ? data.Length : end + 1;
            var text = data[pos..end];
            if (newline >= 0)
            {
                lastNewline = line;
                lastNewlineEnd = next;
            }
            if (text.Length > 0 && text[^1] == (byte)'\r')
                text = text[..^1];
            if (end - pos >= LineReader.MaxLineBytes)
            {
                if (inRun)
                    Close(ref run, data, ref syscallStart, syscallLength, summary);
                inRun = false;
                summary.Issues.Add((line, LineReader.LongLineIssue));
                summary.SkippedLongLines++;
            }
            else if (text.IsEmpty || (text[0] is (byte)' ' or (byte)'\t' && text.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0))
            {
                // A blank line belongs to no record; inside a run it is skipped by pass two as by the full parser.
            }
            else
            {
                // Same node and stamp as the line before: the same event, so the same run.
                var h = default(AuditRecordHeader);
                var continues = inRun && SameStamp(text, data.Slice(previousStart, previous.BodyStart), previous, out h);
                if (!continues && !AuditRecordParser.TryParseHeader(text, out h, out var error))
                {
                    if (inRun)
                        Close(ref run, data, ref syscallStart, syscallLength, summary);
                    inRun = false;
                    summary.Issues.Add((line, error!));
                }
                else
                {
                    records++;
                    // auditd's own records stand alone, as the assembler takes them: never in a kernel event's run.
                    var code = h.Type >= 0 ? h.Type : AuditRecordType.CodeOf(text.Slice(h.TypeStart, h.TypeLength));
                    var daemon = AuditRecordType.IsDaemon(code);
                    var alone = daemon || (inRun && (run.Flags & RunFlags.Daemon) != 0);
                    if (!continues || alone)
                    {
                        var node = text.Slice(h.NodeStart, h.NodeLength);
                        if (!inRun || alone || h.Serial != run.Serial || !node.SequenceEqual(data.Slice(runNodeStart, runNodeLength)))
                        {
                            if (inRun)
                                Close(ref run, data, ref syscallStart, syscallLength, summary);
                            run = new RecordRun
                            {
                                Offset = offset + pos,
                                FirstLine = line,
                                Serial = h.Serial,
                                Node = NodeHash(node),
                                Milliseconds = h.EpochMilliseconds,
                                Flags = daemon ? RunFlags.Daemon : RunFlags.None,
                            };
                            if (run.Node != 0 && _knownNodes.Add(run.Node))
                                summary.NewNodes.Add((run.Node, System.Text.Encoding.UTF8.GetString(node)));
                            runNodeStart = pos + h.NodeStart;
                            runNodeLength = h.NodeLength;
                            inRun = true;
                        }
                        if (h.EpochMilliseconds > run.Milliseconds)
                            run.Milliseconds = h.EpochMilliseconds;
                        if (h.EpochMilliseconds > newest)
                            newest = h.EpochMilliseconds;
                    }
                    run.Length = (int)(offset + end - run.Offset);
                    run.Records++;
                    if (AuditRecordType.IsStandalone(code))
                        run.Flags |= RunFlags.Standalone;
                    if (h.Type == AuditRecordType.Syscall)
                    {
                        // What is read of it depends on the run's other records (an EXECVE, a SOCKADDR): read at its end.
                        if (syscallStart >= 0)
                            ReadSyscall(data.Slice(syscallStart, syscallLength), ref run, whole: true);
                        run.Flags |= RunFlags.Syscall;
                        syscallStart = pos + h.BodyStart;
                        syscallLength = text.Length - h.BodyStart;
                    }
                    else if (code == AuditRecordType.Eoe) // type=1320 and UNKNOWN[1320] are EOE to the assembler too
                    {
                        NoteEnd(ref run);
                    }
                    else
                    {
                        Inspect(h.Type, text[h.BodyStart..], ref run);
                    }
                    previous = h;
                    previousStart = pos;
                }
            }
            pos = next;
            line++;
        }
        if (inRun)
            Close(ref run, data, ref syscallStart, syscallLength, summary, last: true);
        if (lastNewline >= 0)
        {
            summary.LastNewlineLine = lastNewline;
            summary.EndOfLastNewline = offset + lastNewlineEnd;
        }
        summary.Records += records;
        summary.NewestMilliseconds = newest;
        summary.Lines = line;
    }

    /// <summary>
    /// Most records follow one of their own event: the same node before the type and the same stamp after it. Then
    /// the header is the previous one with this line's type, found without reading a number.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool SameStamp(ReadOnlySpan<byte> line, ReadOnlySpan<byte> previousHead, in AuditRecordHeader previous, out AuditRecordHeader header)
    {
        header = default;
        var typeStart = previous.TypeStart;
        if (line.Length <= typeStart || !line[..typeStart].SequenceEqual(previousHead[..typeStart]))
            return false;
        var typeLength = line[typeStart..].IndexOf((byte)' ');
        if (typeLength <= 0)
            return false;
        var stamp = previousHead[(typeStart + previous.TypeLength)..];
        var at = typeStart + typeLength;
        if (!line[at..].StartsWith(stamp))
            return false;
        var body = at + stamp.Length;
        while (body < line.Length && line[body] == (byte)' ')
            body++;
        header = previous with
        {
            Type = AuditRecordParser.TypeOf(line.Slice(typeStart, typeLength)),
            TypeLength = typeLength,
            BodyStart = body,
        };
        return true;
    }

    /// <summary>
    /// An EOE: the run's first, or one more after it. Whether other records follow the first is told when the run closes,
    /// from the counts, so that no other record pays for it.
    /// </summary>
    private void NoteEnd(ref RecordRun run)
    {
        if ((run.Flags & RunFlags.Ended) == 0)
        {
            run.Flags |= RunFlags.Ended;
            _recordsToFirstEnd = run.Records;
            _ends = 0;
        }
        _ends++;
    }

    /// <summary>A run is complete: its SYSCALL record is read, and it goes to the summary.</summary>
    /// <remarks>
    /// The block's first and last runs (<paramref name="last"/>) read all of their SYSCALL, not only what the run's own
    /// records need: they may be parts of an event the block's edge splits, whose other part decides what its count
    /// needs (a SYSCALL read in part would have the whole event kept for pass two; ~1,000 events in the 525 MB benchmark
    /// log, 5,300 records parsed fully).
    /// </remarks>
    private void Close(ref RecordRun run, ReadOnlySpan<byte> data, ref int syscallStart, int syscallLength, BlockSummary summary, bool last = false)
    {
        var whole = last || summary.Runs.Count == 0;
        // Records after the first EOE that are not EOEs themselves (a second EOE adds nothing to a completed event).
        if ((run.Flags & RunFlags.Ended) != 0 && run.Records - _recordsToFirstEnd > _ends - 1)
            run.Flags |= RunFlags.Reopened;
        if (syscallStart >= 0)
        {
            ReadSyscall(data.Slice(syscallStart, syscallLength), ref run, whole);
            syscallStart = -1;
        }
        summary.Runs.Add(run);
    }

    /// <summary>
    /// The pid and ppid of a SYSCALL record, and as much of its call as the event's count needs: an event without an
    /// inet SOCKADDR (none, or a netlink or unix one: most) never counts as an outbound connect, nor as an exec by its
    /// call alone, and one with an EXECVE counts as an exec unless it failed — so
    /// for most records a few searches are enough (<see cref="SyscallFields.TryFindIds"/>), and the run
    /// says so (<see cref="RunFlags.CallUnread"/>). <paramref name="whole"/>: read everything (the run is not complete).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReadSyscall(ReadOnlySpan<byte> body, ref RecordRun run, bool whole)
    {
        int pid, ppid;
        bool found;
        var execve = (run.Flags & RunFlags.Execve) != 0;
        if (!whole && (run.Flags & RunFlags.SockAddrMayBeInet) == 0 && SyscallFields.TryFindIds(body, withSuccess: execve, out var head))
        {
            found = head.TryReadIds(body, out pid, out ppid);
            run.Flags |= RunFlags.CallUnread | (execve && SyscallFields.IsNo(body, head.Success) ? RunFlags.Failed : 0);
        }
        else if (SyscallFields.TryScan(body, out var fields))
        {
            // One forward pass found every field (the kernel's layout): no search from the end.
            found = fields.TryReadIds(body, out pid, out ppid);
            run.Flags |= CallFlags(SyscallFields.Value(body, fields.Success), SyscallFields.Value(body, fields.Arch),
                SyscallFields.Value(body, fields.Syscall), SyscallFields.Value(body, fields.Interpreted));
        }
        else
        {
            found = ProcessIds(body, out pid, out ppid);
            run.Flags |= CallFlags(body);
        }
        // A pid that cannot be read leaves the parent's, which the tracker still looks up (the full parser's exec has
        // pid -1 and its ppid).
        run.ParentPid = ppid;
        if (found)
            run.Pid = pid;
        else
            run.Flags |= RunFlags.NoPid;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Inspect(int type, ReadOnlySpan<byte> body, ref RecordRun run)
    {
        switch (type)
        {
            case AuditRecordType.SockAddr:
                if ((run.Flags & RunFlags.SockAddr) == 0)
                    run.Flags |= AddressFlags(body.TrimEnd("\r\n "u8));
                // Every saddr= of the record: the full parser takes the last one, a damaged line may hold two.
                for (var rest = body; Value(rest, "saddr="u8, out var next) is var saddr && next > 0; rest = rest[next..])
                {
                    if (!saddr.IsEmpty && candidates.IsMetadataSockaddr(saddr))
                    {
                        run.Flags |= RunFlags.Hot;
                        break;
                    }
                }
                break;
            case AuditRecordType.Execve:
                run.Flags |= RunFlags.Execve;
                if (body.StartsWith("argc=0"u8) && (body.Length == 6 || body[6] == (byte)' '))
                    run.Flags |= RunFlags.EmptyArgv;
                else if (body.IndexOf("_len="u8) >= 0 || ExecveMayReference(body))
                    run.Flags |= RunFlags.Hot;
                break;
            case AuditRecordType.Proctitle:
                // Detection reads PROCTITLE for an exec only when its argv is empty (else EXECVE), and for a connect
                // only when the connect is to a metadata address (kept for its SOCKADDR).
                if ((run.Flags & RunFlags.EmptyArgv) != 0)
                {
                    for (var rest = body; Value(rest, "proctitle="u8, out var next) is var title && next > 0; rest = rest[next..])
                    {
                        if (MayReference(title))
                        {
                            run.Flags |= RunFlags.ProctitleMayReference;
                            break;
                        }
                    }
                }
                else if ((run.Flags & RunFlags.Execve) == 0)
                {
                    run.Flags |= RunFlags.ProctitleUnchecked;
                }
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ExecveMayReference(ReadOnlySpan<byte> body)
    {
        // a0="curl" a1=68747470… : quoted values are the arguments as they are, so the whole body is searched for
        // host names, paths and unusual bytes at once (no name fits across `" a1="`, and hex digits spell none);
        // then each value alone for address spellings, hex values decoded first.
        if (ReferenceCandidates.HasUnusualBytes(body) || candidates.HasWord(body))
            return true;
        var i = body.StartsWith("argc="u8) ? body.IndexOf((byte)' ') : 0;
        if (i < 0)
            return false;
        while (i < body.Length)
        {
            var eq = body[i..].IndexOf((byte)'=');
            if (eq < 0)
                return false;
            var start = i + eq + 1;
            if (start >= body.Length)
                return false;
            int end;
            if (body[start] == (byte)'"')
            {
                var close = body[(start + 1)..].IndexOf((byte)'"');
                end = close < 0 ? body.Length : start + 1 + close + 1;
                var value = body[(start + 1)..(close < 0 ? body.Length : start + 1 + close)];
                if (candidates.MaySpellAddress(value) || candidates.MayReferenceUnquoted(value))
                    return true;
            }
            else
            {
                var space = body[start..].IndexOfAny((byte)' ', (byte)0x1D);
                end = space < 0 ? body.Length : start + space;
                if (MayReference(body[start..end]))
                    return true;
            }
            i = end;
        }
        return false;
    }

    /// <summary>An unquoted value: hex-encoded (decoded, and each NUL-separated part checked) or, failing that, as is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool MayReference(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
            return false;
        if (value[0] == (byte)'"')
            return candidates.MayReference(value.Trim((byte)'"'));
        if (HexField.LooksLikeHex(value))
        {
            if (_decoded.Length < value.Length / 2)
                _decoded = new byte[value.Length];
            if (HexField.TryDecode(value, _decoded, out var n))
            {
                // PROCTITLE is argv joined by NULs: the finder sees each argument alone.
                var decoded = _decoded.AsSpan(0, n);
                foreach (var part in decoded.Split((byte)0))
                {
                    if (candidates.MayReference(decoded[part]))
                        return true;
                }
                return false;
            }
        }
        return candidates.MayReference(value);
    }

    /// <summary>The value after the first <paramref name="key"/>, and where to look for the next one (0: none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ReadOnlySpan<byte> Value(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key, out int next)
    {
        next = 0;
        var at = body.IndexOf(key);
        if (at < 0)
            return default;
        var v = body[(at + key.Length)..];
        var end = v.IndexOfAny((byte)' ', (byte)0x1D);
        next = at + key.Length;
        return end < 0 ? v : v[..end];
    }

    /// <summary>
    /// pid and ppid of a SYSCALL record. The kernel writes "ppid=P pid=Q" side by side: one search finds both;
    /// any other layout is searched field by field.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ProcessIds(ReadOnlySpan<byte> body, out int pid, out int ppid)
    {
        // The full parser takes the last field of a key: so does this, for a damaged line that repeats one.
        var at = body.LastIndexOf(" ppid="u8);
        if (at >= 0 && Utf8Parser.TryParse(body[(at + 6)..], out ppid, out var used))
        {
            var rest = body[(at + 6 + used)..];
            if (rest.StartsWith(" pid="u8) && Utf8Parser.TryParse(rest[5..], out pid, out _) && rest[5..].IndexOf(" pid="u8) < 0)
                return true;
        }
        var found = IntField(body, " pid="u8);
        ppid = IntField(body, " ppid="u8) ?? 0;
        pid = found ?? 0;
        return found is not null;
    }

    /// <summary>
    /// What the full parser would make of a SYSCALL record: the call by name (ENRICHED) or by arch and number, whether
    /// it failed, and the arch's byte order — as <see cref="AuditEventNormalizer"/> reads them (the last raw field).
    /// </summary>
    private static RunFlags CallFlags(ReadOnlySpan<byte> body)
    {
        var separator = body.IndexOf((byte)0x1D);
        var raw = separator < 0 ? body : body[..separator];
        var interpreted = separator < 0 ? default : RawField(body[separator..], "SYSCALL="u8);
        return CallFlags(RawField(raw, "success="u8), RawField(raw, "arch="u8), RawField(raw, "syscall="u8), interpreted);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RunFlags CallFlags(ReadOnlySpan<byte> success, ReadOnlySpan<byte> archHex, ReadOnlySpan<byte> number, ReadOnlySpan<byte> interpreted)
    {
        var flags = success.SequenceEqual("no"u8) ? RunFlags.Failed : RunFlags.None;
        var arch = Utf8Parser.TryParse(archHex, out ulong a, out var used, 'x') && used == archHex.Length ? (uint)a : 0;
        if (arch == 0)
            flags |= RunFlags.ArchUnknown;
        else if (SyscallTable.IsBigEndian(arch))
            flags |= RunFlags.ArchBigEndian;
        if (interpreted.IsEmpty)
        {
            var name = Utf8Parser.TryParse(number, out long n, out used) && used == number.Length ? SyscallTable.Name(arch, (int)n) : null;
            return flags | (SyscallTable.IsExec(name) ? RunFlags.ExecCall : 0) | (SyscallTable.IsOutbound(name) ? RunFlags.OutboundCall : 0);
        }
        return flags | (SyscallTable.IsExec(interpreted) ? RunFlags.ExecCall : 0) | (SyscallTable.IsOutbound(interpreted) ? RunFlags.OutboundCall : 0);
    }

    /// <summary>What the full parser would make of a SOCKADDR record's saddr, for either byte order of its family.</summary>
    private static RunFlags AddressFlags(ReadOnlySpan<byte> body)
    {
        var flags = RunFlags.SockAddr;
        var separator = body.IndexOf((byte)0x1D);
        if (!AuditEventNormalizer.MayBeInet(body))
            return flags;
        flags |= RunFlags.SockAddrMayBeInet;
        var saddr = RawField(separator < 0 ? body : body[..separator], "saddr="u8);
        if (SockAddr.HasAddress(saddr, bigEndian: false))
            flags |= RunFlags.InetIfLittleEndian;
        if (SockAddr.HasAddress(saddr, bigEndian: true))
            flags |= RunFlags.InetIfBigEndian;
        if (SockAddr.HasAddress(saddr, bigEndian: null))
            flags |= RunFlags.InetIfArchUnknown;
        return flags;
    }

    /// <summary>The value of the last field of that key (the key starts the body or follows a space or the separator).</summary>
    private static ReadOnlySpan<byte> RawField(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        var scope = body;
        while (true)
        {
            var at = scope.LastIndexOf(key);
            if (at < 0)
                return default;
            if (at == 0 || scope[at - 1] is (byte)' ' or 0x1D)
            {
                var v = body[(at + key.Length)..];
                var end = v.IndexOfAny((byte)' ', (byte)0x1D);
                return end < 0 ? v : v[..end];
            }
            scope = scope[..at];
        }
    }

    /// <summary>A numeric field; the key carries its leading space (" pid=" is not the end of " ppid=").</summary>
    private static int? IntField(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        var at = body.LastIndexOf(key);
        return at >= 0 && Utf8Parser.TryParse(body[(at + key.Length)..], out int v, out _) ? v : null;
    }

    /// <summary>Nodes by a 64-bit FNV-1a hash of their bytes; 0 is "no node".</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ulong NodeHash(ReadOnlySpan<byte> node)
    {
        if (node.IsEmpty)
            return 0;
        var hash = 14695981039346656037UL;
        foreach (var b in node)
            hash = (hash ^ b) * 1099511628211UL;
        return hash | 1;
    }
}
