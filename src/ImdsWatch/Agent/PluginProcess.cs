using System.Runtime.InteropServices;

namespace ImdsWatch.Agent;

/// <summary>
/// What auditd-plugins(5) asks of a plugin at start: trust nothing inherited. The umask becomes 077 (spools,
/// checkpoints and alert files are the operator's alone). The signal mask and the environment are reset by
/// executing the program again, in place (same pid, same stdin), from a thread whose mask is cleared, with a
/// sanitized environment: a .NET process has runtime threads before Main, each with the inherited mask, and
/// sigprocmask reaches only the calling thread, so only a new image starts with every thread's mask clear; and
/// only a new image drops what the loader already applied (LD_PRELOAD). That happens only when something needs
/// it (a blocked signal, a loader variable); otherwise the managed environment is sanitized in place (the native
/// one, which no code of ours reads, keeps its variables: .NET cannot change it).
/// </summary>
public static partial class PluginProcess
{
    private const int SigSetMask = 2; // SIG_SETMASK on Linux
    private const string Marker = "IMDSWATCH_PLUGIN_RESET";

    /// <summary>Variables a sanitized environment keeps (the rest go).</summary>
    private static readonly string[] Kept = ["LANG", "LC_ALL", "TZ", "HOME", "NOTIFY_SOCKET", "JOURNAL_STREAM", "INVOCATION_ID", "DOTNET_ROOT"];
    private static readonly string[] KeptPrefixes = ["IMDSWATCH_", "DOTNET_gc", "DOTNET_GC"];
    private const string SafePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static void Reset()
    {
        if (!OperatingSystem.IsLinux())
            return;
        _ = Umask(0x3F); // 077
        var empty = new byte[128]; // sigset_t of glibc and musl: 1024 bits, all clear
        _ = SigProcMask(SigSetMask, empty, IntPtr.Zero);
        var environment = Sanitized();
        if (Environment.GetEnvironmentVariable(Marker) is null && NeedsNewImage())
            Reexecute(environment); // returns only if exec failed: go on with what this process has
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (!environment.ContainsKey(name))
                Environment.SetEnvironmentVariable(name, null);
        }
        Environment.SetEnvironmentVariable("PATH", SafePath);
    }

    /// <summary>The environment a plugin runs with: a fixed PATH and the few variables that configure it.</summary>
    public static Dictionary<string, string> Sanitized()
    {
        var kept = new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = SafePath };
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            if (Kept.Contains(name, StringComparer.Ordinal) || KeptPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
                kept[name] = (string?)e.Value ?? "";
        }
        return kept;
    }

    /// <summary>A signal blocked in the inherited mask (/proc/self/status SigBlk), or a loader variable.</summary>
    private static bool NeedsNewImage()
    {
        try
        {
            var blocked = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigBlk:", StringComparison.Ordinal));
            if (blocked is not null && blocked[7..].Trim().Any(c => c != '0'))
                return true;
        }
        catch (IOException)
        {
            return false;
        }
        return Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("LD_", StringComparison.Ordinal));
    }

    private static void Reexecute(Dictionary<string, string> environment)
    {
        string[] argv;
        try
        {
            argv = File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0');
        }
        catch (IOException)
        {
            return;
        }
        var args = argv.Select(Marshal.StringToCoTaskMemUTF8).Append(IntPtr.Zero).ToArray();
        var env = environment.Append(new(Marker, "1")).Select(kv => Marshal.StringToCoTaskMemUTF8($"{kv.Key}={kv.Value}")).Append(IntPtr.Zero).ToArray();
        _ = Execve("/proc/self/exe", args, env);
        foreach (var p in args.Concat(env))
            Marshal.FreeCoTaskMem(p);
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    [LibraryImport("libc", EntryPoint = "sigprocmask")]
    private static partial int SigProcMask(int how, byte[] set, IntPtr oldSet);

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Execve(string path, IntPtr[] argv, IntPtr[] envp);
}
