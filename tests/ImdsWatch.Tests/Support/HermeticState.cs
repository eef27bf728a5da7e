using System.Runtime.CompilerServices;

namespace ImdsWatch.Tests.Support;

/// <summary>
/// Tests leave nothing behind and never touch the developer's own state: every temporary file of this test run
/// (Directory.CreateTempSubdirectory, Path.GetTempPath, the children's stdin spools through TMPDIR) goes under one
/// folder, /tmp/imdswatch-tests-PID, removed when the run ends; the state database defaults into it too
/// (XDG_STATE_HOME). A run that was killed leaves its folder, and the next run removes it.
/// </summary>
internal static class HermeticState
{
    private const string Prefix = "imdswatch-tests-";

    public static string Root { get; private set; } = "";

    [ModuleInitializer]
    internal static void Isolate()
    {
        var system = Path.GetTempPath();
        RemoveLeftovers(system);
        Root = Path.Combine(system, Prefix + Environment.ProcessId);
        Directory.CreateDirectory(Root);
        Environment.SetEnvironmentVariable("TMPDIR", Root);
        Environment.SetEnvironmentVariable("XDG_STATE_HOME", Directory.CreateTempSubdirectory("imdswatch-state-").FullName);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Remove(Root);
        WatchForExit();
    }

    /// <summary>
    /// The test host is often killed rather than left to exit once the tests are done (its exit handlers never
    /// run): a watcher in a session of its own removes the folder when the test process is gone, however it ended.
    /// </summary>
    private static void WatchForExit()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/setsid"))
            return;
        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; rm -rf '{Root}'";
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false };
        foreach (var a in new[] { "-f", "/bin/sh", "-c", script })
            psi.ArgumentList.Add(a);
        psi.Environment.Remove("TMPDIR");
        try
        {
            System.Diagnostics.Process.Start(psi)?.Dispose();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // no watcher: the exit handler, or the next run, removes the folder
        }
    }

    /// <summary>Folders of earlier test runs whose process is gone (killed before it could remove its own).</summary>
    private static void RemoveLeftovers(string system)
    {
        foreach (var dir in Directory.EnumerateDirectories(system, Prefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(dir)[Prefix.Length..], out var pid) && !Directory.Exists($"/proc/{pid}"))
                Remove(dir);
        }
    }

    private static void Remove(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // in use by a process still running; the next test run removes it
        }
    }
}
