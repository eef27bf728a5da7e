using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>
/// Each minimal input that once crashed or hung a scan (issue 20), committed under Regressions/: now it is a parse
/// issue with its file and line, the scan goes on, and the exit code is not the one of "alerts found".
/// </summary>
public sealed class HostileInputTests
{
    private static string Input(string name) => Path.Combine(Repo.Root, "tests", "ImdsWatch.Tests", "Regressions", name);

    private static (int Exit, string Out, string Err) Scan(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var task = Task.Run(() => Program.Run(["scan", "--format", "ndjson", "--no-baseline", "--verbose", .. args], stdout, stderr));
        Assert.True(task.Wait(TimeSpan.FromSeconds(60)), "the scan hung");
        return (task.Result, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("audit-stamp-negative.log", "stamp out of range")]
    [InlineData("audit-stamp-overflow.log", "stamp out of range")]
    [InlineData("audit-year-10000.log", "stamp out of range")]
    [InlineData("syslog-logger-audit-stamp.log", "stamp out of range")]
    [InlineData("alb-minute-61.log", "bad ALB time")]
    [InlineData("squid-huge-time.log", "bad squid time")]
    public void A_damaged_time_stamp_is_a_parse_issue_with_or_without_the_prefilter(string name, string reason)
    {
        foreach (var prefilter in new[] { true, false })
        {
            var (exit, output, err) = prefilter ? Scan(Input(name)) : Scan("--no-prefilter", Input(name));
            Assert.Equal(ExitCodes.Ok, exit);
            Assert.Equal("", output);
            Assert.Contains($"{name}:1: ", err, StringComparison.Ordinal);
            Assert.Contains(reason, err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void An_exec_naming_argument_1844674400_is_read_without_an_array_of_billions()
    {
        foreach (var prefilter in new[] { true, false })
        {
            var (exit, output, _) = prefilter ? Scan(Input("audit-execve-huge-index.log")) : Scan("--no-prefilter", Input("audit-execve-huge-index.log"));
            Assert.Equal(ExitCodes.Ok, exit);
            Assert.Equal("", output);
        }
    }

    [Fact]
    public void A_logger_line_with_a_forged_audit_stamp_does_not_hide_the_real_alerts_of_the_audit_log()
    {
        var audit = Audit.WriteTemp(Audit.Exec(10, 500, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"]));
        try
        {
            var (exit, output, err) = Scan(audit, Input("syslog-logger-audit-stamp.log"));
            Assert.Equal(ExitCodes.Ok, exit);
            Assert.Contains("\"MetadataAPIProcess\"", output, StringComparison.Ordinal);
            Assert.Contains("syslog-logger-audit-stamp.log:1: ", err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(audit)!, recursive: true);
        }
    }

    [Fact]
    public void An_ecs_string_with_half_a_surrogate_pair_is_read_with_a_replacement_character()
    {
        var (exit, output, _) = Scan(Input("ecs-lone-surrogate.json"));
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("security-credentials/\uFFFD\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_character_device_is_refused_with_a_message_and_the_other_paths_are_read()
    {
        var (exit, output, err) = Scan("/dev/zero", Path.Combine(Repo.Samples, "web", "access.log"));
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("/dev/zero: a character device", err, StringComparison.Ordinal);
        Assert.Contains("MetadataSSRFAttempt", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fifo_is_refused_without_waiting_for_a_writer()
    {
        var dir = Directory.CreateTempSubdirectory("imdswatch-test-").FullName;
        try
        {
            var fifo = Path.Combine(dir, "audit.log");
            using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
                mkfifo.WaitForExit();
            var (exit, _, err) = Scan(fifo);
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.Contains("a FIFO (named pipe)", err, StringComparison.Ordinal);

            // In a folder it is passed over as not a log, and the folder's logs are read.
            File.Copy(Path.Combine(Repo.Samples, "web", "access.log"), Path.Combine(dir, "access.log"));
            var (folderExit, output, _) = Scan(dir);
            Assert.Equal(ExitCodes.Ok, folderExit);
            Assert.Contains("MetadataSSRFAttempt", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
