using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Runner;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;
using ImdsWatch.Store;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Runner;

public sealed class ScheduledRunnerTests : IDisposable
{
    private const double T0 = 1_700_000_000;
    private const string Creds = "http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role";
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-run-").FullName;
    private readonly StateStore _store;
    private ulong _serial = 100;
    private int _pid = 3000;

    public ScheduledRunnerTests() => _store = StateStore.Open(Path.Combine(_dir, "state.db"));

    private string Log => Path.Combine(_dir, "audit.log");

    private ScheduledRunner Runner(int maxAlerts = 100) =>
        new(_store, EffectiveConfig.Default with { Host = "web-1" }, new RunOptions { MaxAlerts = maxAlerts });

    private RunReport Run(double now, int maxAlerts = 100) => Runner(maxAlerts).RunOnce([Log], DateTimeOffset.FromUnixTimeMilliseconds((long)(now * 1000)), new CollectingSink());

    private string Attack(double t) => Exec(_serial++, _pid++, "/usr/bin/curl", ["curl", "-s", Creds], time: t);

    private void Append(string text) => File.AppendAllText(Log, text);

    [Fact]
    public void A_growing_and_rotating_log_raises_each_alert_exactly_once()
    {
        Append(Attack(T0 + 60) + Attack(T0 + 120) + Attack(T0 + 180));
        var first = Run(T0 + 600);
        Assert.Equal(3, first.Raised.Count);

        var again = Run(T0 + 600 + 900);
        Assert.Empty(again.Raised);
        Assert.Equal(3, again.AlreadyRaised);

        Append(Attack(T0 + 1000) + Attack(T0 + 1100));
        var grown = Run(T0 + 1200);
        Assert.Equal(2, grown.Raised.Count);

        // Written to the old file, then rotated (audit.log → audit.log.1), then the new file starts.
        Append(Attack(T0 + 1300));
        File.Move(Log, Log + ".1");
        File.WriteAllText(Log, Attack(T0 + 1400));
        var rotated = Run(T0 + 1500);
        Assert.Equal(2, rotated.Raised.Count);
        Assert.Empty(rotated.Warnings);
        Assert.Contains(rotated.Raised, a => a.Evidence[0].File == Log + ".1");

        var all = new AlertRepository(_store).List(includeAcknowledged: true);
        Assert.Equal(7, all.Count);
        Assert.Equal(7, all.Select(a => a.Id).Distinct().Count());
    }

    [Fact]
    public void Evidence_lines_stay_true_when_reading_from_a_checkpoint()
    {
        Append(Attack(T0 + 60));
        Run(T0 + 100);
        Append(Attack(T0 + 4000));
        var report = Run(T0 + 4100);
        var alert = Assert.Single(report.Raised);
        Assert.Equal(6, alert.Evidence[0].Line);
        Assert.StartsWith("type=SYSCALL", File.ReadLines(Log).ElementAt(5), StringComparison.Ordinal);
    }

    [Fact]
    public void Exec_read_by_one_run_and_connect_by_the_next_are_one_process()
    {
        Append(Exec(_serial++, 4000, "/usr/bin/python3.11", ["python3", "/opt/x/steal.py"], tty: "(none)", time: T0 + 60));
        Assert.Empty(Run(T0 + 100).Raised);
        Append(Connect(_serial++, 4000, "/usr/bin/python3.11", "169.254.169.254", time: T0 + 200));
        var alert = Assert.Single(Run(T0 + 300).Raised);
        Assert.Equal("python3 /opt/x/steal.py", alert.Process.CommandLine);
    }

    [Fact]
    public void More_alerts_than_the_cap_are_held_back_with_a_warning_and_raised_by_the_next_run()
    {
        var text = string.Concat(Enumerable.Range(0, 150).Select(i => Attack(T0 + 60 + i)));
        Append(text);
        var first = Run(T0 + 600, maxAlerts: 100);
        Assert.Equal(100, first.Raised.Count);
        Assert.Equal(50, first.HeldBack);
        Assert.Contains(first.Warnings, w => w.Contains("--max-alerts 100", StringComparison.Ordinal));
        var second = Run(T0 + 600 + 900, maxAlerts: 100);
        Assert.Equal(50, second.Raised.Count);
        Assert.Empty(first.Raised.Select(a => a.Id).Intersect(second.Raised.Select(a => a.Id)));
    }

    [Fact]
    public void Alerts_older_than_the_look_back_are_not_raised()
    {
        Append(Attack(T0) + Attack(T0 + 3600));
        var report = Run(T0 + 3700);
        Assert.Single(report.Raised);
    }

    [Fact]
    public void A_truncated_log_is_read_again_from_the_start_with_a_warning()
    {
        Append(Attack(T0 + 60) + Attack(T0 + 70));
        Run(T0 + 100);
        File.WriteAllText(Log, Attack(T0 + 200));
        var report = Run(T0 + 300);
        Assert.Single(report.Raised);
        Assert.Contains(report.Warnings, w => w.Contains("truncated", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_log_is_a_warning_not_a_crash()
    {
        var report = Run(T0);
        Assert.Contains(report.Warnings, w => w.Contains("not found", StringComparison.Ordinal));
    }

    [Fact]
    public void Silent_accesses_are_learned_and_sessions_are_kept_for_investigations()
    {
        Append(Exec(_serial++, 5000, "/usr/bin/amazon-ssm-agent", ["/usr/bin/amazon-ssm-agent"], tty: "(none)", time: T0 + 10)
            + Connect(_serial++, 5000, "/usr/bin/amazon-ssm-agent", "169.254.169.254", time: T0 + 11)
            + $"type=USER_LOGIN msg=audit({T0 + 20:0.000}:{_serial++}): pid=9 uid=0 auid=1001 ses=3 msg='op=login id=1001 exe=\"/usr/sbin/sshd\" hostname=203.0.113.7 addr=203.0.113.7 terminal=/dev/pts/1 res=success'\n");
        Run(T0 + 100);
        Assert.Contains(new BaselineRepository(_store).Entries(), e => e.Subject == "/usr/bin/amazon-ssm-agent");
        var sessions = new SessionRepository(_store).Around("web-1", DateTimeOffset.FromUnixTimeSeconds((long)T0), TimeSpan.Zero, TimeSpan.FromMinutes(5));
        Assert.Equal("203.0.113.7", Assert.Single(sessions).Address);
    }

    public void Dispose()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
