using System.Diagnostics;
using System.Text.Json;

namespace ImdsWatch.Tests.Cli;

/// <summary>Runs on a machine with root and the Linux audit tools; skips with the reason elsewhere.</summary>
public sealed class RootAuditFactAttribute : FactAttribute
{
    public RootAuditFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
            Skip = "needs root on Linux (creates a network namespace and audit rules)";
        else if (!new[] { "/sbin/auditctl", "/usr/sbin/auditctl" }.Any(File.Exists) || !new[] { "/sbin/auditd", "/usr/sbin/auditd" }.Any(File.Exists))
            Skip = "needs auditd and auditctl (apt-get install auditd)";
        else if (!File.Exists("/proc/self/loginuid") && !Directory.Exists("/proc/sys/net"))
            Skip = "no kernel audit support visible";
    }
}

/// <summary>
/// The real thing: imdswatch validate as a separate process, real auditd, real kernel records, a private
/// network namespace. Every built-in test must pass and the machine must be left as it was.
/// </summary>
[Collection("validate")]
public sealed class ValidateEndToEndTests
{
    private static (int Exit, string Out, string Err) Sh(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), $"{file} did not finish in 5 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [RootAuditFact]
    public void Validate_passes_every_built_in_test_and_restores_the_machine()
    {
        var rulesBefore = Sh("auditctl", "-l").Out;
        var namespacesBefore = Sh("ip", "netns", "list").Out;
        var keep = Directory.CreateTempSubdirectory("imdswatch-e2e-").FullName;
        var cli = Path.Combine(AppContext.BaseDirectory, "imdswatch.dll");

        var (exit, output, err) = Sh("dotnet", cli, "validate", "--json", "--keep", keep);

        Assert.True(exit == 0, $"validate exited {exit}:\n{err}\n{output}");
        using var doc = JsonDocument.Parse(output);
        var tests = doc.RootElement.GetProperty("tests").EnumerateArray().ToList();
        Assert.True(tests.Count >= 29, $"only {tests.Count} tests ran");
        foreach (var t in tests)
        {
            var verdict = t.GetProperty("verdict").GetString();
            Assert.True(verdict is "PASS", $"{t.GetProperty("id").GetString()}: {verdict} {t.GetProperty("reason").GetString()}");
        }
        Assert.Empty(doc.RootElement.GetProperty("not_restored").EnumerateArray());
        Assert.Equal(rulesBefore, Sh("auditctl", "-l").Out);
        Assert.Equal(namespacesBefore, Sh("ip", "netns", "list").Out);
        Assert.False(Directory.Exists("/etc/netns") && Directory.EnumerateDirectories("/etc/netns", "imdswatch-validate-*").Any(), "hosts file left behind");

        // The emulator really served canaries inside the namespace: the attacks got through to it.
        var served = File.ReadAllLines(Path.Combine(keep, "emulator.log")).Count(l => l.Contains("\"canary\":true", StringComparison.Ordinal));
        Assert.True(served >= 25, $"only {served} canary responses");
        Directory.Delete(keep, recursive: true);
    }

    [Fact]
    public void Validate_refuses_without_root_or_without_the_audit_tools_and_says_why()
    {
        Assert.Contains("needs root", ImdsWatch.Cli.Commands.ValidateCommand.CheckPreconditions(false, _ => "/bin/x"), StringComparison.Ordinal);
        Assert.Equal("needs auditd (Debian: apt-get install auditd iproute2 coreutils)",
            ImdsWatch.Cli.Commands.ValidateCommand.CheckPreconditions(true, p => p == "auditd" ? null : "/bin/" + p));
        Assert.Null(ImdsWatch.Cli.Commands.ValidateCommand.CheckPreconditions(true, p => "/bin/" + p));
    }
}
