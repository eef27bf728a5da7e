using System.Runtime.InteropServices;

namespace ImdsWatch.Agent;

/// <summary>
/// What auditd-plugins(5) asks of a plugin at start: do not trust the inherited state. The signal mask auditd
/// may have left blocked is cleared on this thread (so SIGTERM and SIGHUP arrive), and the umask is set to 077
/// (spools and alert files are the operator's alone).
/// </summary>
public static partial class PluginProcess
{
    private const int SigSetMask = 2; // SIG_SETMASK on Linux

    public static void Reset()
    {
        if (!OperatingSystem.IsLinux())
            return;
        _ = Umask(0x3F); // 077
        var empty = new byte[128]; // sigset_t of glibc and musl: 1024 bits, all clear
        _ = SigProcMask(SigSetMask, empty, IntPtr.Zero);
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    [LibraryImport("libc", EntryPoint = "sigprocmask")]
    private static partial int SigProcMask(int how, byte[] set, IntPtr oldSet);
}
