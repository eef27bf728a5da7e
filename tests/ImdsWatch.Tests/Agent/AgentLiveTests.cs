using System.Diagnostics;
using System.Text.Json;
using ImdsWatch.Tests.Cli;
using ImdsWatch.Tests.Sinks;
using Xunit.Abstractions;

namespace ImdsWatch.Tests.Agent;

/// <summary>Root, the audit tools, and no other audit daemon registered with the kernel (one per kernel).</summary>
public sealed class PrivateAuditdFactAttribute : FactAttribute
{
    public PrivateAuditdFactAttribute()
    {
        Skip = new RootAuditFactAttribute().Skip;
        if (Skip is null && AgentLiveTests.Run("auditctl", "-s").Out.Split('\n').Any(l => l.StartsWith("pid ", StringComparison.Ordinal) && l != "pid 0"))
            Skip = "another audit daemon is registered with the kernel; a private auditd cannot start";
    }
}

/// <summary>
/// The real thing: a private <c>auditd -c DIR</c> whose plugins.d starts <c>imdswatch agent</c> with a webhook sink to
/// a receiver on 127.0.0.1; curl to the metadata address inside a private network namespace; the alert arrives.
/// </summary>
[Collection("validate")]
public sealed class AgentLiveTests(ITestOutputHelper output)
{
    internal static (int Exit, string Out, string Err) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
            p.Kill(entireProcessTree: true);
        return (p.HasExited ? p.ExitCode : -1, stdout.Result, stderr.Result);
    }

    [PrivateAuditdFact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_curl_to_the_metadata_address_reaches_the_webhook_through_the_auditd_plugin_within_seconds()
    {
        var undo = new Stack<Action>();
        using var receiver = new MockReceiver();
        var dir = Directory.CreateTempSubdirectory("imdswatch-agent-live-").FullName;
        undo.Push(() => Directory.Delete(dir, recursive: true));
        var ns = $"imdsw-agent-{Environment.ProcessId}";
        var key = $"imdsw-agent-{Environment.ProcessId}";
        var enabledBefore = Run("auditctl", "-s").Out.Split('\n').FirstOrDefault(l => l.StartsWith("enabled ", StringComparison.Ordinal))?[8..].Trim() ?? "0";
        var pidFileExisted = File.Exists("/run/auditd.pid");
        Process? daemon = null;
        Process? follower = null;
        try
        {
            Assert.Equal(0, Run("ip", "netns", "add", ns).Exit);
            undo.Push(() => Run("ip", "netns", "del", ns));
            Run("ip", "-n", ns, "link", "set", "lo", "up");
            Run("ip", "-n", ns, "addr", "add", "169.254.169.254/32", "dev", "lo");

            var plugins = Path.Combine(dir, "plugins.d");
            Directory.CreateDirectory(plugins);
            var script = Path.Combine(dir, "agent.sh");
            File.WriteAllText(script, $"#!/bin/sh\nexec dotnet {Path.Combine(AppContext.BaseDirectory, "imdswatch.dll")} agent --config {dir}/agent.yaml --state {dir}/none.db 2>>{dir}/agent.err\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            File.WriteAllText(Path.Combine(dir, "agent.yaml"), $"agent:\n  window_seconds: 1\n  state_dir: {dir}/spool\nsinks:\n  - type: webhook\n    url: {receiver.Url}/alerts\n");
            File.WriteAllText(Path.Combine(plugins, "imdswatch.conf"), $"active = yes\ndirection = out\npath = {script}\ntype = always\nformat = string\n");
            File.WriteAllText(Path.Combine(dir, "auditd.conf"), $"log_file = {dir}/audit.log\nlog_format = ENRICHED\nflush = INCREMENTAL_ASYNC\nfreq = 50\nplugin_dir = {plugins}\nmax_log_file = 64\nmax_log_file_action = IGNORE\nspace_left = 2\nspace_left_action = IGNORE\nadmin_space_left = 1\nadmin_space_left_action = IGNORE\ndisk_full_action = IGNORE\ndisk_error_action = IGNORE\nname_format = HOSTNAME\n");
            File.SetUnixFileMode(Path.Combine(dir, "auditd.conf"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

            var psi = new ProcessStartInfo("auditd") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-n", "-c", dir })
                psi.ArgumentList.Add(a);
            daemon = Process.Start(psi)!;
            daemon.OutputDataReceived += (_, _) => { };
            daemon.ErrorDataReceived += (_, _) => { };
            daemon.BeginOutputReadLine();
            daemon.BeginErrorReadLine();
            MockReceiver.WaitFor(() => Run("auditctl", "-s").Out.Contains($"pid {daemon.Id}", StringComparison.Ordinal), 15);
            Assert.Contains($"pid {daemon.Id}", Run("auditctl", "-s").Out, StringComparison.Ordinal);
            foreach (var syscall in new[] { "execve", "connect" })
            {
                Assert.Equal(0, Run("auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", syscall, "-k", key).Exit);
                undo.Push(() => Run("auditctl", "-d", "always,exit", "-F", "arch=b64", "-S", syscall, "-k", key));
            }
            MockReceiver.WaitFor(() => File.Exists(Path.Combine(dir, "agent.err")) && File.ReadAllText(Path.Combine(dir, "agent.err")).Contains("started", StringComparison.Ordinal), 30);

            // The same daemon's log file, followed by a second agent (--follow) writing to a file sink.
            var followed = Path.Combine(dir, "follow.ndjson");
            var fpsi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "imdswatch.dll"), "agent", "--follow", $"audit:{dir}/audit.log", "--sink", $"file={followed}", "--state", $"{dir}/none.db", "--state-dir", $"{dir}/follow-state", "--window", "1s" })
                fpsi.ArgumentList.Add(a);
            follower = Process.Start(fpsi)!;
            var followerErr = new System.Text.StringBuilder();
            follower.ErrorDataReceived += (_, e) => { lock (followerErr) followerErr.AppendLine(e.Data); };
            follower.OutputDataReceived += (_, _) => { };
            follower.BeginErrorReadLine();
            follower.BeginOutputReadLine();
            MockReceiver.WaitFor(() => { lock (followerErr) return followerErr.ToString().Contains("started", StringComparison.Ordinal); }, 30);

            var url = $"http://169.254.169.254/latest/meta-data/iam/security-credentials/live-{Environment.ProcessId}";
            Run("ip", "netns", "exec", ns, "curl", "-s", "-m", "2", url);
            MockReceiver.WaitFor(() => receiver.Accepted.Any(r => r.Body.Contains(url, StringComparison.Ordinal)), 30);
            var arrived = DateTimeOffset.UtcNow;

            var alert = receiver.AcceptedAlerts().FirstOrDefault(a => a.GetRawText().Contains(url, StringComparison.Ordinal));
            Assert.True(alert.ValueKind == JsonValueKind.Object, $"no alert for {url} at the receiver; agent said: {File.ReadAllText(Path.Combine(dir, "agent.err"))}");
            var recorded = alert.GetProperty("@timestamp").GetDateTimeOffset();
            var latency = arrived - recorded;
            output.WriteLine($"kernel record {recorded:O} → webhook {arrived:O}: {latency.TotalMilliseconds:0} ms (window 1 s)");
            Assert.True(latency < TimeSpan.FromSeconds(5), $"latency {latency.TotalMilliseconds:0} ms");

            // auditd writes its log in batches (flush = INCREMENTAL_ASYNC, freq 50): --follow sees the records when they are written.
            MockReceiver.WaitFor(() => File.Exists(followed) && File.ReadAllText(followed).Contains(url, StringComparison.Ordinal), 60);
            var inFile = DateTimeOffset.UtcNow;
            Assert.True(File.Exists(followed) && File.ReadAllText(followed).Contains(url, StringComparison.Ordinal), $"no alert for {url} from --follow {dir}/audit.log; it said: {followerErr}");
            output.WriteLine($"--follow {dir}/audit.log: kernel record → file sink {(inFile - recorded).TotalMilliseconds:0} ms (auditd's log flush included)");
        }
        finally
        {
            if (follower is not null && !follower.HasExited)
            {
                Run("kill", "-TERM", follower.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (!follower.WaitForExit(TimeSpan.FromSeconds(15)))
                    follower.Kill();
                follower.WaitForExit();
            }
            follower?.Dispose();
            if (daemon is not null && !daemon.HasExited)
            {
                Run("kill", "-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (!daemon.WaitForExit(TimeSpan.FromSeconds(15)))
                    daemon.Kill();
                daemon.WaitForExit();
            }
            daemon?.Dispose();
            if (!pidFileExisted && File.Exists("/run/auditd.pid"))
                File.Delete("/run/auditd.pid");
            Run("auditctl", "-e", enabledBefore);
            while (undo.Count > 0)
                undo.Pop()();
        }
    }
}
