using System.Diagnostics;
using System.Reflection;
using ImdsWatch.Cli.Commands;

namespace ImdsWatch.Cli.Validation;

/// <summary>
/// The isolated place the tests run in: a network namespace whose only interface is a loopback holding the
/// metadata addresses, a hosts file for the metadata names, the emulator inside it, and audit rules with
/// an audit daemon writing to our own log. Every change is pushed with its undo and undone in reverse,
/// on success, failure or Ctrl-C.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ValidationLab : IDisposable
{
    public static readonly string[] Addresses4 = ["169.254.169.254", "169.254.170.2", "169.254.170.23", "100.100.100.200", "192.0.0.192", "168.63.129.16"];
    public static readonly string[] Addresses6 = ["fd00:ec2::254", "fd00:ec2::23"];
    public static readonly string[] HostNames = ["metadata.google.internal", "metadata", "metadata.goog", "instance-data", "instance-data.ec2.internal"];

    private readonly Stack<(string What, Action Undo)> _undo = new();
    private readonly TextWriter _log;
    private readonly List<int> _startedPids = [];

    public string Namespace { get; }
    public string RunDirectory { get; }
    public string WorkDirectory => Path.Combine(RunDirectory, "work");
    public string CaptureFile => Path.Combine(RunDirectory, "audit.log");
    public string EmulatorLog => Path.Combine(RunDirectory, "emulator.log");
    public string AuditKey { get; }
    public bool UsesSystemAuditd { get; private set; }
    public IReadOnlyList<int> StartedPids => _startedPids;

    private string? _systemLog;
    private long _systemLogStart;

    private ValidationLab(string runDirectory, TextWriter log)
    {
        var id = Environment.ProcessId;
        Namespace = $"imdswatch-validate-{id}";
        AuditKey = $"imdswatch-validate-{id}";
        RunDirectory = runDirectory;
        _log = log;
    }

    public static ValidationLab Create(string runDirectory, bool keep, string logFormat, TextWriter log)
    {
        var lab = new ValidationLab(runDirectory, log);
        try
        {
            lab.PrepareDirectory(keep);
            lab.CreateNamespace();
            lab.StartAudit(logFormat);
            lab.StartEmulator();
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    private void Do(string what, Action action, Action undo)
    {
        _log.WriteLine($"  {what}");
        action();
        _undo.Push((what, undo));
    }

    private void PrepareDirectory(bool keep)
    {
        var existed = Directory.Exists(RunDirectory);
        Do($"scratch directory {RunDirectory}", () =>
        {
            Directory.CreateDirectory(WorkDirectory);
            // Readable by the unprivileged test user; nothing secret is kept here.
            File.SetUnixFileMode(RunDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            File.SetUnixFileMode(WorkDirectory, File.GetUnixFileMode(RunDirectory));
            foreach (var (name, text) in TestFiles.All)
                File.WriteAllText(Path.Combine(WorkDirectory, name), text.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        }, () =>
        {
            if (!keep && !existed)
                Directory.Delete(RunDirectory, recursive: true);
            else if (!keep)
                Directory.Delete(WorkDirectory, recursive: true);
        });
    }

    private void CreateNamespace()
    {
        Do($"network namespace {Namespace}", () => Shell.Check("ip", "netns", "add", Namespace), () => Shell.Check("ip", "netns", "del", Namespace));
        Shell.Check("ip", "-n", Namespace, "link", "set", "lo", "up");
        foreach (var a in Addresses4)
            Shell.Check("ip", "-n", Namespace, "addr", "add", a + "/32", "dev", "lo");
        foreach (var a in Addresses6)
            Shell.Check("ip", "-n", Namespace, "-6", "addr", "add", a + "/128", "dev", "lo", "nodad");
        var links = Shell.Check("ip", "-n", Namespace, "-o", "link").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (links.Length != 1 || !links[0].Contains(": lo:", StringComparison.Ordinal))
            throw new ValidationSetupException($"namespace {Namespace} has interfaces other than lo: refusing to run tests");

        // ip netns exec bind-mounts /etc/netns/NAME/hosts over /etc/hosts inside the namespace only.
        var netnsEtc = "/etc/netns";
        var createdEtc = !Directory.Exists(netnsEtc);
        var dir = Path.Combine(netnsEtc, Namespace);
        Do($"hosts file {dir}/hosts (metadata names → 169.254.169.254)", () =>
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "hosts"),
                $"127.0.0.1 localhost\n::1 localhost\n169.254.169.254 {string.Join(' ', HostNames)}\n");
        }, () =>
        {
            Directory.Delete(dir, recursive: true);
            if (createdEtc && Directory.Exists(netnsEtc) && !Directory.EnumerateFileSystemEntries(netnsEtc).Any())
                Directory.Delete(netnsEtc);
        });
    }

    private void StartAudit(string logFormat)
    {
        var status = AuditStatus();
        if (status.Pid == 0)
        {
            var confDir = Path.Combine(RunDirectory, "auditd");
            Directory.CreateDirectory(confDir);
            var conf = Path.Combine(confDir, "auditd.conf");
            File.WriteAllText(conf, $"""
                log_file = {CaptureFile}
                log_format = {logFormat.ToUpperInvariant()}
                log_group = root
                flush = SYNC
                freq = 0
                name_format = HOSTNAME
                max_log_file = 512
                max_log_file_action = IGNORE
                space_left = 2
                space_left_action = IGNORE
                admin_space_left = 1
                admin_space_left_action = IGNORE
                disk_full_action = IGNORE
                disk_error_action = IGNORE
                write_logs = yes

                """);
            File.SetUnixFileMode(conf, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var pidFileExisted = File.Exists("/run/auditd.pid");
            Process? daemon = null;
            Do("audit daemon (auditd -n) writing to the capture", () =>
            {
                daemon = Shell.Start("auditd", ["-n", "-c", confDir]);
                daemon.OutputDataReceived += (_, _) => { };
                daemon.ErrorDataReceived += (_, _) => { };
                daemon.BeginOutputReadLine();
                daemon.BeginErrorReadLine();
                _startedPids.Add(daemon.Id);
                WaitFor(() => AuditStatus().Pid == daemon.Id, TimeSpan.FromSeconds(15), "auditd to register with the kernel");
            }, () =>
            {
                Stop(daemon!);
                if (!pidFileExisted && File.Exists("/run/auditd.pid"))
                    File.Delete("/run/auditd.pid");
                Shell.Run("auditctl", ["-e", status.Enabled.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            });
        }
        else
        {
            UsesSystemAuditd = true;
            _systemLog = SystemLogFile();
            _systemLogStart = File.Exists(_systemLog) ? new FileInfo(_systemLog).Length : 0;
            _log.WriteLine($"  using the running audit daemon (pid {status.Pid}), log {_systemLog}");
        }

        foreach (var rule in AuditRules.Arguments(AuditKey).Append(["-a", "always,exit", "-F", "arch=b64", "-S", "sendto,sendmsg", "-k", AuditKey]))
        {
            var remove = rule.Select(a => a == "-a" ? "-d" : a).ToArray();
            Do($"audit rule {string.Join(' ', rule)}", () => Shell.Check("auditctl", rule), () => Shell.Check("auditctl", remove));
        }
    }

    private void StartEmulator()
    {
        var (file, prefix) = SelfCommand();
        Process? emulator = null;
        Do("metadata emulator inside the namespace (port 80 on the metadata addresses)", () =>
        {
            emulator = Shell.Start("ip", ["netns", "exec", Namespace, file, .. prefix, "emulate", "--listen", "http://*:80", "--log", EmulatorLog, "--quiet"]);
            _startedPids.Add(emulator.Id);
            var ready = emulator.StandardOutput.ReadLineAsync();
            if (!ready.Wait(TimeSpan.FromSeconds(60)) || ready.Result?.StartsWith(EmulateCommand.ReadyLine, StringComparison.Ordinal) != true)
                throw new ValidationSetupException($"the emulator did not start: {emulator.StandardError.ReadToEnd()}");
        }, () => Stop(emulator!));
    }

    /// <summary>How to run this same program again: the apphost, or dotnet with our dll.</summary>
    private static (string File, string[] Prefix) SelfCommand()
    {
        var process = Environment.ProcessPath ?? throw new ValidationSetupException("cannot tell where imdswatch runs from");
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
            return (process, [Path.Combine(AppContext.BaseDirectory, "imdswatch.dll")]);
        return (process, []);
    }

    /// <summary>The audit records written since the lab started, copied to <see cref="CaptureFile"/>.</summary>
    public void CollectCapture()
    {
        if (!UsesSystemAuditd)
            return;
        using var input = OpenSystemLog(_systemLog!);
        if (input.Length >= _systemLogStart)
            input.Seek(_systemLogStart, SeekOrigin.Begin);
        using var output = File.Create(CaptureFile);
        input.CopyTo(output);
    }

    private static FileStream OpenSystemLog(string path)
    {
        try
        {
            return File.Open(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ValidationSetupException($"the system audit log {path} disappeared while validate ran (rotated or removed by another "
                + "program), so the tests' records cannot be collected: run validate again, or with its own auditd");
        }
    }

    public void Dispose()
    {
        var failures = new List<string>();
        while (_undo.TryPop(out var step))
        {
            try
            {
                step.Undo();
            }
            catch (Exception e)
            {
                failures.Add($"{step.What}: {e.Message}");
            }
        }
        foreach (var f in failures)
            _log.WriteLine($"imdswatch validate: could not undo {f}");
    }

    private static void Stop(Process p)
    {
        try
        {
            if (p.HasExited)
                return;
            Shell.Run("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (!p.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public static (int Pid, int Enabled) AuditStatus()
    {
        var text = Shell.Run("auditctl", ["-s"]).Stdout;
        int Field(string name) => text.Split('\n').Select(l => l.Split(' ', 2)).Where(p => p.Length == 2 && p[0] == name)
            .Select(p => int.TryParse(p[1], out var v) ? v : 0).FirstOrDefault();
        return (Field("pid"), Field("enabled"));
    }

    private static string SystemLogFile()
    {
        const string conf = "/etc/audit/auditd.conf";
        if (File.Exists(conf))
        {
            foreach (var line in File.ReadLines(conf))
            {
                var parts = line.Split('=', 2, StringSplitOptions.TrimEntries);
                if (parts.Length == 2 && parts[0] == "log_file")
                    return parts[1];
            }
        }
        return "/var/log/audit/audit.log";
    }

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                throw new ValidationSetupException($"timed out waiting for {what}");
            Thread.Sleep(100);
        }
    }
}
