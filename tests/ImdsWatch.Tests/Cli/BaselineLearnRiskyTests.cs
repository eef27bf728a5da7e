using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Cli;

/// <summary>A log given to baseline learn as "normal" may hold the attack: learning it would silence it for good.</summary>
public sealed class BaselineLearnRiskyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-learn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Of(args);

    private string Log()
    {
        const string creds = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";
        var text = Exec(10, 500, "/usr/bin/python3.11", ["python3", "/opt/app/worker.py"], tty: "(none)", time: 1_700_000_000)
            + Connect(11, 500, "/usr/bin/python3.11", "169.254.169.254", time: 1_700_000_000.1)
            + Exec(20, 600, "/usr/bin/bash", ["bash", "-c", "exec 3<>/dev/tcp/169.254.169.254/80; printf 'GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"], time: 1_700_000_100)
            + Exec(30, 700, "/tmp/amazon-ssm-agent", ["/tmp/amazon-ssm-agent", creds], tty: "(none)", time: 1_700_000_200)
            + Connect(31, 700, "/tmp/amazon-ssm-agent", "169.254.169.254", time: 1_700_000_200.1);
        var path = Path.Combine(_dir, "audit.log");
        File.WriteAllText(path, text);
        return path;
    }

    private string Export(string state)
    {
        var file = Path.Combine(_dir, Path.GetFileName(state) + ".json");
        Assert.Equal(ExitCodes.Ok, Run("baseline", "export", file, "--state", state).Exit);
        return File.ReadAllText(file);
    }

    [Fact]
    public void A_dev_tcp_one_liner_and_a_tmp_copy_of_the_ssm_agent_are_skipped_with_a_warning()
    {
        var state = Path.Combine(_dir, "state.db");
        var (exit, _, err) = Run("baseline", "learn", Log(), "--state", state);

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("not learning 2 access(es) that look like an attack", err, StringComparison.Ordinal);
        Assert.Contains("/dev/tcp", err, StringComparison.Ordinal);
        Assert.Contains("/tmp/amazon-ssm-agent", err, StringComparison.Ordinal);
        Assert.Contains("--accept-risky", err, StringComparison.Ordinal);
        var baseline = Export(state);
        Assert.Contains("/opt/app/worker.py", baseline, StringComparison.Ordinal);
        Assert.DoesNotContain("/tmp/amazon-ssm-agent", baseline, StringComparison.Ordinal);
        Assert.DoesNotContain("/dev/tcp", baseline, StringComparison.Ordinal);
    }

    [Fact]
    public void Accept_risky_learns_them_and_says_so()
    {
        var state = Path.Combine(_dir, "risky.db");
        var (exit, _, err) = Run("baseline", "learn", Log(), "--state", state, "--accept-risky");

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("learning 2 access(es) that look like an attack, as --accept-risky asks", err, StringComparison.Ordinal);
        var baseline = Export(state);
        Assert.Contains("/tmp/amazon-ssm-agent", baseline, StringComparison.Ordinal);
        Assert.Contains("/dev/tcp", baseline, StringComparison.Ordinal);
    }

    [Fact]
    public void Normal_use_is_learned_without_a_word_of_warning()
    {
        var path = Path.Combine(_dir, "normal.log");
        File.WriteAllText(path, ImdsWatch.Tests.Support.Week.NormalUse(2));
        var (exit, _, err) = Run("baseline", "learn", path, "--state", Path.Combine(_dir, "normal.db"));
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.DoesNotContain("look like an attack", err, StringComparison.Ordinal);
    }
}
