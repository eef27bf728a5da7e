using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Tests.Support;

/// <summary>Runs the real pipeline over audit text written in a test.</summary>
public static class Audit
{
    public static string WriteTemp(string text, string name = "audit.log")
    {
        var dir = Directory.CreateTempSubdirectory("imdswatch-test-").FullName;
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal));
        return path;
    }

    public static List<HostEvent> Events(string text, List<ParseIssue>? issues = null)
    {
        var path = WriteTemp(text);
        return [.. DetectionPipeline.ReadEvents(new InputSource(path, path), issues: issues).OfType<HostEvent>().Where(e => e is not SessionEvent)];
    }

    public static ScanResult Scan(string text, DetectionRules? rules = null)
    {
        var path = WriteTemp(text);
        return new DetectionPipeline(rules ?? DetectionRules.Default).Scan([new InputSource(path, path)]);
    }

    public static IReadOnlyList<Alert> AlertsOf(string text, DetectionRules? rules = null) => Scan(text, rules).Alerts;

    /// <summary>An x86_64 exec event (SYSCALL + EXECVE + CWD + PATH) in RAW format.</summary>
    public static string Exec(ulong serial, int pid, string exe, string[] argv, int ppid = 1000, int uid = 0, string tty = "pts0", long ownerUid = 0, string cwd = "/root", double time = 1700000000.000, int? auid = null)
    {
        var login = auid ?? uid;
        var t = time.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        var args = string.Join(' ', argv.Select((a, i) => $"a{i}=\"{a}\""));
        var comm = Path.GetFileName(exe);
        if (comm.Length > 15)
            comm = comm[..15];
        return $"""
            type=SYSCALL msg=audit({t}:{serial}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid={ppid} pid={pid} auid={login} uid={uid} gid={uid} euid={uid} suid={uid} fsuid={uid} egid={uid} sgid={uid} fsgid={uid} tty={tty} ses=1 comm="{comm}" exe="{exe}" key="imds"
            type=EXECVE msg=audit({t}:{serial}): argc={argv.Length} {args}
            type=CWD msg=audit({t}:{serial}): cwd="{cwd}"
            type=PATH msg=audit({t}:{serial}): item=0 name="{exe}" inode=1 dev=08:01 mode=0100755 ouid={ownerUid} ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0
            type=EOE msg=audit({t}:{serial}):

            """;
    }

    /// <summary>An x86_64 connect event to an IPv4 address and port, EINPROGRESS as curl makes.</summary>
    public static string Connect(ulong serial, int pid, string exe, string ip, int port = 80, int ppid = 1000, int uid = 0, string tty = "(none)", long exit = -115, double time = 1700000000.001, string? proctitleHex = null)
    {
        var t = time.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        var b = System.Net.IPAddress.Parse(ip).GetAddressBytes();
        var saddr = b.Length == 4
            ? $"0200{port:X4}{Convert.ToHexString(b)}0000000000000000"
            : $"0A00{port:X4}00000000{Convert.ToHexString(b)}00000000";
        var comm = Path.GetFileName(exe);
        if (comm.Length > 15)
            comm = comm[..15];
        var success = exit == 0 ? "yes" : "no";
        var proctitle = proctitleHex is null ? "" : $"\ntype=PROCTITLE msg=audit({t}:{serial}): proctitle={proctitleHex}";
        return $"""
            type=SYSCALL msg=audit({t}:{serial}): arch=c000003e syscall=42 success={success} exit={exit} a0=5 a1=7ffd a2={(b.Length == 4 ? "10" : "1c")} a3=0 items=0 ppid={ppid} pid={pid} auid={uid} uid={uid} gid={uid} euid={uid} suid={uid} fsuid={uid} egid={uid} sgid={uid} fsgid={uid} tty={tty} ses=1 comm="{comm}" exe="{exe}" key="imds"
            type=SOCKADDR msg=audit({t}:{serial}): saddr={saddr}{proctitle}
            type=EOE msg=audit({t}:{serial}):

            """;
    }

    public static string Hex(string s) => Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(s));
}
