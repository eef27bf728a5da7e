using System.Globalization;
using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>Numeric audit message types (include/uapi/linux/audit.h) for the records the detection reads.</summary>
public static class AuditRecordType
{
    public const int UserAuth = 1100;
    public const int UserAcct = 1101;
    public const int UserStart = 1105;
    public const int UserEnd = 1106;
    public const int UserLogin = 1112;
    public const int UserCmd = 1123;
    public const int Syscall = 1300;
    public const int Path = 1302;
    public const int SockAddr = 1306;
    public const int Cwd = 1307;
    public const int Execve = 1309;
    public const int Eoe = 1320;
    public const int BprmFcaps = 1321;
    public const int Mmap = 1323;
    public const int Proctitle = 1327;
    public const int UringOp = 1336;

    private static readonly Dictionary<string, int> ByName = new(StringComparer.Ordinal)
    {
        ["USER_AUTH"] = UserAuth,
        ["USER_ACCT"] = UserAcct,
        ["USER_START"] = UserStart,
        ["USER_END"] = UserEnd,
        ["USER_LOGIN"] = UserLogin,
        ["USER_CMD"] = UserCmd,
        ["SYSCALL"] = Syscall,
        ["PATH"] = Path,
        ["SOCKADDR"] = SockAddr,
        ["CWD"] = Cwd,
        ["EXECVE"] = Execve,
        ["EOE"] = Eoe,
        ["PROCTITLE"] = Proctitle,
        ["URINGOP"] = UringOp,
        ["IPC"] = 1303,
        ["SOCKETCALL"] = 1304,
        ["CONFIG_CHANGE"] = 1305,
        ["FD_PAIR"] = 1317,
        ["OBJ_PID"] = 1318,
        ["BPRM_FCAPS"] = BprmFcaps,
        ["CAPSET"] = 1322,
        ["MMAP"] = Mmap,
        ["NETFILTER_PKT"] = 1324,
        ["NETFILTER_CFG"] = 1325,
        ["SECCOMP"] = 1326,
        ["KERN_MODULE"] = 1330,
        ["BPF"] = 1334,
        ["OPENAT2"] = 1337,
        ["AVC"] = 1400,
        ["SELINUX_ERR"] = 1401,
        ["ANOM_PROMISCUOUS"] = 1700,
        ["ANOM_ABEND"] = 1701,
        ["ANOM_LINK"] = 1702,
        ["DAEMON_START"] = 1200,
        ["DAEMON_END"] = 1201,
        ["DAEMON_ABORT"] = 1202,
        ["DAEMON_CONFIG"] = 1203,
        ["DAEMON_ROTATE"] = 1204,
        ["DAEMON_RESUME"] = 1205,
        ["DAEMON_ACCEPT"] = 1206,
        ["DAEMON_CLOSE"] = 1207,
        ["DAEMON_ERR"] = 1208,
        ["SERVICE_START"] = 1130,
        ["SERVICE_STOP"] = 1131,
        ["CRED_ACQ"] = 1103,
        ["CRED_DISP"] = 1104,
        ["CRED_REFR"] = 1110,
        ["USER_LOGOUT"] = 1113,
        ["USER_ERR"] = 1109,
        ["USER_AVC"] = 1107,
        ["LOGIN"] = 1006,
    };

    /// <summary>Parses "SYSCALL", "UNKNOWN[1334]" or "1300". Unknown names map to 0 and are kept by name.</summary>
    public static int Parse(string name)
    {
        if (ByName.TryGetValue(name, out var code))
            return code;
        if (name.StartsWith("UNKNOWN[", StringComparison.Ordinal) && name.EndsWith(']')
            && int.TryParse(name.AsSpan(8, name.Length - 9), out code))
            return code;
        return int.TryParse(name, out code) ? code : 0;
    }

    /// <summary>
    /// Kernel records of one syscall share a serial and belong together until EOE; user-space
    /// messages (1100-1299, 2100+) stand alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsStandalone(int code) => code is (>= 1100 and < 1300) or >= 2000;

    /// <summary>
    /// Records auditd writes about itself (DAEMON_START, DAEMON_ROTATE, …: 1200-1299). They carry auditd's own
    /// serial, which can be any kernel serial: one that equals a coming kernel event's must not make that event
    /// look already complete.
    /// </summary>
    public static bool IsDaemon(int code) => code is >= 1200 and < 1300;

    /// <summary><see cref="IsDaemon(int)"/> of the type <see cref="CodeOf"/> makes of <paramref name="name"/>.</summary>
    public static bool IsDaemonName(ReadOnlySpan<byte> name) => IsDaemon(CodeOf(name));

    /// <summary>
    /// The type <see cref="Parse"/> makes of <paramref name="name"/>, from its bytes and without allocating: pass one
    /// asks it of every record whose type is not one of the common few.
    /// </summary>
    public static int CodeOf(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
            return 0;
        if (char.IsAsciiLetter((char)name[0]))
        {
            if (name.StartsWith("UNKNOWN["u8) && name[^1] == (byte)']')
                return int.TryParse(name[8..^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var unknown) ? unknown : 0;
            if (name.Length > 32)
                return 0; // longer than any name of the table
            Span<char> chars = stackalloc char[name.Length];
            for (var i = 0; i < name.Length; i++)
                chars[i] = (char)name[i]; // a name with other than ASCII is no table name either way
            return ByNameLookup.TryGetValue(chars, out var code) ? code : 0;
        }
        return int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : 0;
    }

    private static readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> ByNameLookup = ByName.GetAlternateLookup<ReadOnlySpan<char>>();
}
