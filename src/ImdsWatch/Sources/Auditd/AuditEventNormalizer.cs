using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ImdsWatch.Events;
using ImdsWatch.Sources.CloudTrail;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Turns a complete audit event into the normalized events detection reads: an exec (SYSCALL + EXECVE),
/// and an outbound address (SYSCALL connect/sendto/sendmsg + SOCKADDR of family inet/inet6).
/// </summary>
public sealed class AuditEventNormalizer
{
    private readonly Func<int, string> _sourceName;
    private readonly string? _defaultHost;
    private readonly Action<ParseIssueArgs> _reportIssue;

    public AuditEventNormalizer(Func<int, string> sourceName, string? defaultHost, Action<ParseIssueArgs> reportIssue)
    {
        _sourceName = sourceName;
        _defaultHost = defaultHost;
        _reportIssue = reportIssue;
        _sys = new AuditFields(_strings);
        _aux = new AuditFields(_strings);
    }

    private static readonly Dictionary<int, string> SessionKinds = new()
    {
        [AuditRecordType.UserLogin] = "USER_LOGIN",
        [AuditRecordType.UserStart] = "USER_START",
        [AuditRecordType.UserEnd] = "USER_END",
        [AuditRecordType.UserCmd] = "USER_CMD",
        [AuditRecordType.UserAuth] = "USER_AUTH",
        [1113] = "USER_LOGOUT",
    };

    // One string per recurring value (exe, comm, cwd, user names, common arguments): the process images detection
    // keeps for ancestry then share them, which keeps what survives the young generation small (the full parser's
    // largest cost was the collector copying those strings).
    private readonly StringPool _strings = new();

    // Indexes reused event after event (an event is normalized before the next one starts): the SYSCALL's, one
    // for the record read at the moment (CWD, PATH, PROCTITLE, SOCKADDR), and one per EXECVE record.
    private readonly AuditFields _sys;
    private readonly AuditFields _aux;
    private readonly List<AuditFields> _execveFields = [];
    private readonly List<AuditFields> _execveInUse = [];
    private readonly Dictionary<int, string> _arguments = [];

    // argv and files of recurring execs, shared by every exec of the same bytes, and the key being looked up: the
    // bytes of the event's EXECVE (or PATH) records one after another.
    private readonly RecurringArrays<string> _argv = new();
    private readonly RecurringArrays<FileRef> _files = new();
    private readonly byte[] _key = new byte[RecurringArrays<string>.MaxKeyLength];

    /// <summary>The event's normalized events, all made before the first is returned.</summary>
    public IEnumerable<HostEvent> Normalize(AuditEvent e)
    {
        var events = new List<HostEvent>(1);
        Normalize(e, events.Add);
        return events;
    }

    /// <summary>The event's normalized events, each handed to <paramref name="emit"/> as it is made (issues in between).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void Normalize(AuditEvent e, Action<HostEvent> emit)
    {
        if (e.Records.Count == 1 && SessionKinds.TryGetValue(e.Records[0].Type, out var kind))
        {
            emit(Session(e, kind));
            return;
        }
        var syscallRecord = e.First(AuditRecordType.Syscall);
        var uring = syscallRecord is null ? e.First(AuditRecordType.UringOp) : null;
        var head = syscallRecord ?? uring;
        if (head is null)
            return;

        // Only an exec (it has an EXECVE record) or an inet/inet6 destination can matter: decide that from the
        // raw bytes before decoding any field, since most events are neither.
        var execve = e.First(AuditRecordType.Execve);
        var sockRecord = e.First(AuditRecordType.SockAddr);
        if (execve is null && (sockRecord is null || !MayBeInet(sockRecord.Body)))
            return;

        var sys = head.ReadFields(_sys);
        var arch = (uint)(sys.GetHexUInt64("arch"u8) ?? 0);
        var number = (int)(sys.GetInt64("syscall"u8) ?? -1);
        var syscall = uring is not null
            ? "io_uring:" + (sys.GetString("uring_op"u8) ?? "?")
            : sys.GetInterpreted("SYSCALL"u8) ?? SyscallTable.Name(arch, number) ?? (number >= 0 ? number.ToString() : null);

        var isExec = SyscallTable.IsExec(syscall) || execve is not null;
        var isOutbound = sockRecord is not null && (SyscallTable.IsOutbound(syscall) || uring is not null);
        if (!isExec && !isOutbound)
            return;

        var process = Process(e, sys, isExec, out var argsProblem);
        if (argsProblem is not null)
            _reportIssue(new ParseIssueArgs(head.SourceId, head.Line, argsProblem));

        var evidence = EvidenceRef.Audit(_sourceName(head.SourceId), head.Line, e.Serial);
        var host = e.Node ?? _defaultHost;
        var key = sys.GetUntrusted("key"u8);
        var exit = sys.GetInt64("exit"u8);
        var success = sys.GetString("success"u8);

        if (isExec)
        {
            emit(new ProcessExec
            {
                Timestamp = e.Timestamp,
                Host = host,
                Sequence = e.Serial,
                Process = process,
                Evidence = evidence,
                Source = EventOrigin.Auditd,
                Syscall = syscall,
                AuditKey = key,
                Success = success != "no",
            });
        }

        if (isOutbound)
        {
            if (!sockRecord!.ReadFields(_aux).TryGetRaw("saddr"u8, out var saddr) || saddr.SequenceEqual("(null)"u8) || saddr.SequenceEqual("?"u8))
            {
                _reportIssue(new ParseIssueArgs(sockRecord.SourceId, sockRecord.Line, "SOCKADDR without saddr"));
                return;
            }
            var decoded = SockAddr.DecodeHex(saddr, arch == 0 ? null : SyscallTable.IsBigEndian(arch));
            if (decoded.Problem is not null)
                _reportIssue(new ParseIssueArgs(sockRecord.SourceId, sockRecord.Line, decoded.Problem));
            if (decoded.Address is null)
                return;
            emit(new NetworkConnect
            {
                Timestamp = e.Timestamp,
                Host = host,
                Sequence = e.Serial,
                Process = process,
                Evidence = evidence,
                Source = EventOrigin.Auditd,
                Syscall = syscall,
                AuditKey = key,
                Destination = decoded.Address,
                Port = decoded.Port,
                Exit = exit,
                Outcome = Outcome(success, exit),
            });
        }
    }

    /// <summary>
    /// saddr= starts with the family in either byte order: 0200/0002 (AF_INET) or 0A00/000A (AF_INET6). Anything
    /// else (AF_UNIX, netlink) can never be a metadata address. Errs toward true.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool MayBeInet(ReadOnlySpan<byte> body)
    {
        var at = body.IndexOf("saddr="u8);
        if (at < 0 || body.Length < at + 10)
            return true;
        var family = body.Slice(at + 6, 4);
        return family.SequenceEqual("0200"u8) || family.SequenceEqual("0002"u8)
            || family.SequenceEqual("0A00"u8) || family.SequenceEqual("000A"u8)
            || family.SequenceEqual("0a00"u8) || family.SequenceEqual("000a"u8);
    }

    private SessionEvent Session(AuditEvent e, string kind)
    {
        var r = e.Records[0];
        var f = r.ReadFields(_sys);
        var process = new ProcessSnapshot
        {
            Pid = (int)(f.GetInt64("pid"u8) ?? -1),
            Executable = f.GetUntrusted("exe"u8),
            User = new UserIdentity(f.GetInt64("uid"u8), f.GetInterpreted("UID"u8), f.GetInt64("auid"u8), f.GetInterpreted("AUID"u8), null, null),
            Session = f.GetString("ses"u8),
        };
        return new SessionEvent
        {
            Timestamp = e.Timestamp,
            Host = e.Node ?? _defaultHost,
            Sequence = e.Serial,
            Process = process,
            Evidence = EvidenceRef.Audit(_sourceName(r.SourceId), r.Line, e.Serial),
            Source = EventOrigin.Auditd,
            Kind = kind,
            Account = f.GetUntrusted("acct"u8) ?? f.GetInterpreted("AUID"u8),
            Address = f.GetString("addr"u8),
            Terminal = f.GetString("terminal"u8),
            Result = f.GetString("res"u8),
            Command = f.GetUntrusted("cmd"u8),
        };
    }

    private static ConnectOutcome Outcome(string? success, long? exit) => (success, exit) switch
    {
        ("yes", _) => ConnectOutcome.Success,
        (_, -115) => ConnectOutcome.InProgress, // EINPROGRESS: non-blocking connect, an attempt like success
        ("no", _) => ConnectOutcome.Failure,
        _ => ConnectOutcome.Unknown,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ProcessSnapshot Process(AuditEvent e, AuditFields sys, bool isExec, out string? problem)
    {
        problem = null;
        IReadOnlyList<string> args = [];
        var fromProctitle = false;
        if (isExec && e.First(AuditRecordType.Execve) is not null)
        {
            var key = KeyOf(e, AuditRecordType.Execve);
            var slot = 0;
            if (!key.IsEmpty && _argv.Find(key, out slot) is { } kept)
                args = kept;
            else
            {
                var rebuilt = ExecveArguments.Rebuild(ExecveFields(e), _arguments, out problem);
                if (!key.IsEmpty && problem is null)
                    _argv.Keep(slot, key, rebuilt);
                args = rebuilt;
            }
        }
        if (args.Count == 0 && e.First(AuditRecordType.Proctitle) is { } pt)
        {
            args = ExecveArguments.FromProctitle(pt.ReadFields(_aux).GetUntrusted("proctitle"u8));
            fromProctitle = args.Count > 0;
        }

        var files = Files(e);

        return new ProcessSnapshot
        {
            Pid = (int)(sys.GetInt64("pid"u8) ?? -1),
            ParentPid = (int?)sys.GetInt64("ppid"u8),
            Executable = sys.GetUntrusted("exe"u8),
            Name = sys.GetUntrusted("comm"u8),
            Args = args,
            ArgsFromProctitle = fromProctitle,
            WorkingDirectory = e.First(AuditRecordType.Cwd)?.ReadFields(_aux).GetUntrusted("cwd"u8),
            Tty = sys.GetString("tty"u8),
            Session = sys.GetString("ses"u8),
            User = new UserIdentity(
                sys.GetInt64("uid"u8), sys.GetInterpreted("UID"u8),
                sys.GetInt64("auid"u8), sys.GetInterpreted("AUID"u8),
                sys.GetInt64("euid"u8), sys.GetInterpreted("EUID"u8)),
            Files = files,
        };
    }

    /// <summary>
    /// The files the PATH records name, in an array the image keeps for as long as it is tracked: shared with the
    /// earlier execs of the same PATH records.
    /// </summary>
    private FileRef[] Files(AuditEvent e)
    {
        var paths = 0;
        foreach (var r in CollectionsMarshal.AsSpan(e.Records))
        {
            if (r.Type == AuditRecordType.Path)
                paths++;
        }
        if (paths == 0)
            return [];
        var key = KeyOf(e, AuditRecordType.Path);
        var slot = 0;
        if (!key.IsEmpty && _files.Find(key, out slot) is { } kept)
            return kept;
        var files = NamedFiles(e, paths);
        if (!key.IsEmpty)
            _files.Keep(slot, key, files);
        return files;
    }

    private FileRef[] NamedFiles(AuditEvent e, int paths)
    {
        var files = new FileRef[paths];
        var named = 0;
        foreach (var r in CollectionsMarshal.AsSpan(e.Records))
        {
            if (r.Type != AuditRecordType.Path)
                continue;
            var pf = r.ReadFields(_aux);
            if (pf.GetUntrusted("name"u8) is { } name)
                files[named++] = new FileRef(name, pf.GetInt64("ouid"u8), pf.GetString("nametype"u8));
        }
        if (named < paths)
            Array.Resize(ref files, named);
        return files;
    }

    /// <summary>
    /// The bodies of the event's records of <paramref name="type"/>, each followed by a newline (no body holds one),
    /// in a buffer reused event after event; empty when they are longer than a recurring array's key.
    /// </summary>
    private ReadOnlySpan<byte> KeyOf(AuditEvent e, int type)
    {
        var length = 0;
        foreach (var r in CollectionsMarshal.AsSpan(e.Records))
        {
            if (r.Type != type)
                continue;
            var body = r.Body;
            if (length + body.Length + 1 > _key.Length)
                return default;
            body.CopyTo(_key.AsSpan(length));
            length += body.Length;
            _key[length++] = (byte)'\n';
        }
        return _key.AsSpan(0, length);
    }

    /// <summary>The event's EXECVE records indexed, in order, into reused instances.</summary>
    private List<AuditFields> ExecveFields(AuditEvent e)
    {
        _execveInUse.Clear();
        foreach (var r in CollectionsMarshal.AsSpan(e.Records))
        {
            if (r.Type != AuditRecordType.Execve)
                continue;
            if (_execveFields.Count == _execveInUse.Count)
                _execveFields.Add(new AuditFields(_strings));
            _execveInUse.Add(r.ReadFields(_execveFields[_execveInUse.Count]));
        }
        return _execveInUse;
    }
}

public readonly record struct ParseIssueArgs(int SourceId, long Line, string Reason);
