using System.IO.Compression;
using System.Text.Json;
using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Cli;

public sealed class ScanCommandTests
{
    private const string Creds = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";

    private static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Of(args);

    private static string AttackLog() => WriteTemp(Exec(10, 500, "/usr/bin/curl", ["curl", Creds]) + Connect(11, 500, "/usr/bin/curl", "169.254.169.254"));

    [Fact]
    public void Scan_writes_ecs_ndjson_alerts_with_evidence_pointers()
    {
        var log = AttackLog();
        var (exit, output, _) = Run("scan", log, "--format", "ndjson");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output.Trim());
        var root = doc.RootElement;
        Assert.Equal("alert", root.GetProperty("event").GetProperty("kind").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", root.GetProperty("@timestamp").GetString());
        Assert.Equal("MetadataAPIProcess", root.GetProperty("imds").GetProperty("alert_type").GetString());
        Assert.Equal("credentials", root.GetProperty("imds").GetProperty("access").GetString());
        Assert.Equal("T1552.005", root.GetProperty("threat").GetProperty("technique").GetProperty("subtechnique").GetProperty("id").GetString());
        Assert.Equal("169.254.169.254", root.GetProperty("destination").GetProperty("ip").GetString());
        Assert.Equal(500, root.GetProperty("process").GetProperty("pid").GetInt32());
        Assert.Equal(1000, root.GetProperty("process").GetProperty("parent").GetProperty("pid").GetInt32());
        Assert.Equal("/usr/bin/curl", root.GetProperty("process").GetProperty("executable").GetString());
        Assert.Equal(Creds, root.GetProperty("url").GetProperty("original").GetString());
        var evidence = root.GetProperty("imds").GetProperty("evidence").EnumerateArray().ToList();
        Assert.Equal(log, evidence[0].GetProperty("file").GetString());
        Assert.Equal(1, evidence[0].GetProperty("line").GetInt32());
        Assert.Equal(6, evidence[1].GetProperty("line").GetInt32());
    }

    [Fact]
    public void Fail_on_alert_exits_1_and_a_clean_log_exits_0()
    {
        Assert.Equal(1, Run("scan", AttackLog(), "--fail-on-alert", "-q").Exit);
        Assert.Equal(0, Run("scan", WriteTemp(Exec(10, 1, "/usr/bin/ls", ["ls"])), "--fail-on-alert", "-q").Exit);
    }

    [Fact]
    public void Usage_and_io_errors_exit_2_with_a_message()
    {
        var missing = Run("scan", "/nonexistent/audit.log");
        Assert.Equal(2, missing.Exit);
        Assert.Contains("/nonexistent/audit.log: no such file or directory", missing.Err, StringComparison.Ordinal);
        Assert.Equal(2, Run("scan", AttackLog(), "--format", "xml").Exit);
        Assert.Equal(2, Run("scan").Exit);
        Assert.Equal(2, Run("scan", AttackLog(), "--config", "/nonexistent.yaml").Exit);
    }

    [Fact]
    public void Bad_lines_are_counted_with_file_and_line_and_the_good_ones_still_alert()
    {
        var text = "garbage line\n" + Exec(10, 500, "/usr/bin/curl", ["curl", Creds]) + "type=SYSCALL msg=audit(broken\n";
        var log = WriteTemp(text);
        var (exit, output, err) = Run("scan", log, "--format", "ndjson");
        Assert.Equal(0, exit);
        Assert.Single(output.Trim().Split('\n'));
        Assert.Contains("2 line(s) could not be read", err, StringComparison.Ordinal);
        Assert.Contains($"{log}:1: no type= field", err, StringComparison.Ordinal);
        Assert.Contains($"{log}:7: malformed audit(seconds.millis:serial) stamp", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_has_a_header_and_a_row_per_alert()
    {
        var lines = Run("scan", AttackLog(), "--format", "csv", "-q").Out.Trim().Split('\n');
        Assert.StartsWith("timestamp,id,alert_type,severity", lines[0], StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
        Assert.Contains(",MetadataAPIProcess,", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Table_format_shows_the_alert_for_a_person()
    {
        var output = Run("scan", AttackLog(), "--format", "table", "-q").Out;
        Assert.Contains("MetadataAPIProcess", output, StringComparison.Ordinal);
        Assert.Contains("credentials", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Gzip_and_directories_with_rotation_are_read()
    {
        var dir = Directory.CreateTempSubdirectory("imdswatch-rot-").FullName;
        using (var gz = new GZipStream(File.Create(Path.Combine(dir, "audit.log.1")), CompressionLevel.Fastest))
            gz.Write(System.Text.Encoding.UTF8.GetBytes(Exec(10, 500, "/usr/bin/curl", ["curl", Creds])));
        File.WriteAllText(Path.Combine(dir, "audit.log"), Connect(11, 600, "/usr/bin/wget", "169.254.169.254", time: 1700000005));
        var (exit, output, err) = Run("scan", dir, "--format", "ndjson");
        Assert.Equal(0, exit);
        var alerts = output.Trim().Split('\n');
        Assert.Equal(2, alerts.Length);
        Assert.Contains("2 file(s)", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Min_severity_filters_what_is_reported()
    {
        var log = WriteTemp(Connect(11, 600, "/usr/local/bin/app", "169.254.169.254") + Exec(20, 700, "/usr/bin/curl", ["curl", Creds]));
        Assert.Equal(2, Run("scan", log, "-q", "--format", "ndjson").Out.Trim().Split('\n').Length);
        Assert.Single(Run("scan", log, "-q", "--format", "ndjson", "--min-severity", "high").Out.Trim().Split('\n'));
    }

    [Fact]
    public void Config_adds_an_agent_and_names_the_host()
    {
        var log = WriteTemp(Connect(11, 600, "/opt/acme/bin/inventory", "169.254.169.254") + Connect(12, 700, "/usr/local/bin/other", "169.254.169.254"));
        var config = WriteTemp("""
            host: web-1
            agents:
              add:
                - name: acme-inventory
                  executables: [/opt/acme/bin/inventory]
            """, "imdswatch.yaml");
        var (exit, output, err) = Run("scan", log, "--config", config, "--format", "ndjson");
        Assert.Equal(0, exit);
        using var doc = JsonDocument.Parse(output.Trim());
        Assert.Equal("/usr/local/bin/other", doc.RootElement.GetProperty("process").GetProperty("executable").GetString());
        Assert.Equal("web-1", doc.RootElement.GetProperty("host").GetProperty("name").GetString());
        Assert.Contains("acme-inventory ×1", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_config_names_the_file_and_line()
    {
        var config = WriteTemp("agents:\n  add: [\n", "bad.yaml");
        var (exit, _, err) = Run("scan", AttackLog(), "--config", config);
        Assert.Equal(2, exit);
        Assert.Contains("bad.yaml:", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Rules_auditd_prints_rules_for_both_abis_without_success_filter()
    {
        var output = Run("rules", "auditd").Out;
        Assert.Contains("-a always,exit -F arch=b64 -S execve,execveat -k imds", output, StringComparison.Ordinal);
        Assert.Contains("-a always,exit -F arch=b32 -S connect -k imds", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\n-a always,exit -F arch=b64 -S connect -F success=1", output, StringComparison.Ordinal);
    }
}

public sealed class StdinTests
{
    [Fact]
    public void Standard_input_is_format_detected_and_scanned_whole()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "imdswatch.dll"), "scan", "-", "--format", "ndjson", "--no-baseline" })
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write(File.ReadAllText(Path.Combine(Repo.Samples, "web", "access.log")));
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        var err = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.Equal(0, p.ExitCode);
        Assert.Contains("MetadataSSRFAttempt", output, StringComparison.Ordinal);
        Assert.Contains("8 web request(s)", err, StringComparison.Ordinal);
    }
}
