using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Detection;
using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Store;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Anomaly;

public sealed class BaselineTests
{
    private static readonly double Later = Week.Start + (9 * 86400);

    private static StateStore NewStore() => StateStore.Open(Path.Combine(Directory.CreateTempSubdirectory("imdswatch-db-").FullName, "state.db"));

    private static BaselineSnapshot Learned(StateStore store, int days = 8)
    {
        var repo = new BaselineRepository(store);
        repo.Learn(Scan(Week.NormalUse(days)).Accesses);
        return repo.Snapshot();
    }

    private static (DetectionResult Filtered, List<Alert> Anomalies, int Silenced) Evaluate(BaselineSnapshot baseline, string text)
    {
        var path = Audit.WriteTemp(text);
        var scan = new DetectionPipeline(DetectionRules.Default) { Baseline = baseline }.Scan([new InputSource(path, path)]);
        var anomalies = scan.Alerts.Where(a => a.AlertType is AnomalyRules.UnusualUser or AnomalyRules.UnusualProcess).ToList();
        return (new DetectionResult(scan.Alerts.Except(anomalies).ToList(), scan.Accesses), anomalies, scan.SilencedByBaseline);
    }

    private static (List<Alert> Anomalies, ScanResult Scan) Anomalies(string text, BaselineSnapshot baseline)
    {
        var (_, anomalies, _) = Evaluate(baseline, text);
        var path = Audit.WriteTemp(text);
        return (anomalies, new DetectionPipeline(DetectionRules.Default) { Baseline = baseline }.Scan([new InputSource(path, path)]));
    }

    [Fact]
    public void A_week_of_normal_use_makes_the_same_use_later_silent()
    {
        using var store = NewStore();
        var baseline = Learned(store);
        var (filtered, anomalies, silenced) = Evaluate(baseline, Week.NormalUse(1, start: Later, serial: 90_000, adminChecksCredentials: false));
        Assert.Empty(filtered.Alerts);
        Assert.Empty(anomalies);
        Assert.True(silenced >= 5, $"{silenced} silenced");
    }

    [Fact]
    public void Without_a_baseline_the_same_use_alerts_as_first_seen()
    {
        var scan = Scan(Week.NormalUse(1));
        Assert.NotEmpty(scan.Alerts);
        Assert.All(scan.Alerts, a => Assert.Contains("first-seen", a.Tags));
    }

    [Fact]
    public void A_new_user_of_a_known_program_alerts_and_is_an_unusual_user()
    {
        using var store = NewStore();
        var baseline = Learned(store);
        var text = Week.Nodes(Exec(1, 9000, "/usr/bin/python3.11", ["python3", "/opt/app/worker.py"], uid: 1005, tty: "(none)", time: Later)
            + Connect(2, 9000, "/usr/bin/python3.11", "169.254.169.254", uid: 1005, time: Later + 0.01), "web-1");
        var (filtered, anomalies, _) = Evaluate(baseline, text);
        var alert = Assert.Single(filtered.Alerts);
        Assert.Contains("baseline:new-user", alert.Tags);
        Assert.DoesNotContain("baseline:new-program", alert.Tags);
        var unusual = Assert.Single(anomalies);
        Assert.Equal(AnomalyRules.UnusualUser, unusual.AlertType);
        Assert.Equal(100, unusual.AnomalyScore);
        Assert.Equal("user uid 1005 never called the metadata service on web-1 in 8 days; 0 of 1 host(s) have ever seen it (score 100 ≥ 75)", unusual.Explanation);
        Assert.Equal(21 + 26, unusual.RiskScore); // low base, raised because a detection alert fired on the same access
    }

    [Fact]
    public void A_new_program_of_a_known_user_alerts_and_is_an_unusual_process()
    {
        using var store = NewStore();
        var baseline = Learned(store);
        var text = Week.Nodes(Exec(1, 9000, "/usr/bin/python3.11", ["python3", "/opt/app/other.py"], uid: 998, tty: "(none)", time: Later)
            + Connect(2, 9000, "/usr/bin/python3.11", "169.254.169.254", uid: 998, time: Later + 0.01), "web-1");
        var (filtered, anomalies, _) = Evaluate(baseline, text);
        Assert.Contains("baseline:new-program", Assert.Single(filtered.Alerts).Tags);
        var unusual = Assert.Single(anomalies);
        Assert.Equal(AnomalyRules.UnusualProcess, unusual.AlertType);
        Assert.Contains("/opt/app/other.py", unusual.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interactive_credential_fetch_by_a_known_user_and_program_still_alerts()
    {
        using var store = NewStore();
        var baseline = Learned(store);
        var text = Week.Nodes(Exec(1, 9000, "/usr/bin/curl", ["curl", "-s", Week.Creds], uid: 0, tty: "pts0", time: Later), "web-1");
        var (filtered, _, silenced) = Evaluate(baseline, text);
        var alert = Assert.Single(filtered.Alerts);
        Assert.Equal(AccessClass.Credentials, alert.Access);
        Assert.Contains("baseline:known-but-interactive-credentials", alert.Tags);
        Assert.False(alert.FirstSeen);
        Assert.Equal(0, silenced);
    }

    [Fact]
    public void A_known_program_reaching_a_more_sensitive_class_than_it_ever_did_alerts()
    {
        using var store = NewStore();
        var baseline = Learned(store);
        // The worker was only ever seen connecting (no URL in sight); reading user-data by URL is new behaviour.
        var text = Week.Nodes(Exec(1, 9000, "/usr/bin/python3.11", ["python3", "/opt/app/worker.py", "http://169.254.169.254/latest/user-data"], uid: 998, tty: "(none)", time: Later), "web-1");
        Assert.Single(Evaluate(baseline, text).Filtered.Alerts);
    }

    [Fact]
    public void Hosts_with_less_history_than_the_learning_period_raise_no_anomaly()
    {
        using var store = NewStore();
        var baseline = Learned(store, days: 2);
        var text = Week.Nodes(Connect(2, 9000, "/usr/local/bin/new", "169.254.169.254", uid: 1005, time: Later), "web-1");
        var (anomalies, scan) = Anomalies(text, baseline);
        Assert.Empty(anomalies);
        Assert.Contains("web-1", scan.Detection.LearningHosts);
    }

    [Fact]
    public void Fleet_rarity_lowers_the_score_of_a_user_common_on_other_hosts()
    {
        using var store = NewStore();
        var repo = new BaselineRepository(store);
        repo.Learn(Scan(Week.NormalUse(8)).Accesses);
        foreach (var h in new[] { "web-2", "web-3", "web-4" })
        {
            repo.Learn(Scan(Week.Nodes(Connect(5, 7000, "/usr/local/bin/deployer", "169.254.169.254", uid: 1007, time: Week.Start + 100), h)).Accesses);
        }
        var baseline = repo.Snapshot();
        var text = Week.Nodes(Connect(2, 9000, "/usr/local/bin/deployer", "169.254.169.254", uid: 1007, time: Later), "web-1");
        var (anomalies, _) = Anomalies(text, baseline);
        var user = Assert.Single(anomalies, a => a.AlertType == AnomalyRules.UnusualUser);
        Assert.Equal(81, user.AnomalyScore); // 0.75 × 100 + 0.25 × 100 × (1 − 3/4)
        Assert.Contains("3 of 4 host(s)", user.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Importing_the_same_export_twice_changes_nothing()
    {
        using var a = NewStore();
        Learned(a, days: 3);
        var json = new BaselineRepository(a).Export();
        using var b = NewStore();
        var repoB = new BaselineRepository(b);
        repoB.Import(json, "export.json");
        repoB.Import(json, "export.json");
        var entriesA = new BaselineRepository(a).Entries();
        var entriesB = repoB.Entries();
        Assert.Equal(entriesA.Count, entriesB.Count);
        Assert.All(entriesA.Zip(entriesB), p => Assert.Equal(p.First, p.Second));
        Assert.Throws<InvalidDataException>(() => repoB.Import("{\"hello\":1}", "x.json"));
    }

    [Fact]
    public void Forgetting_a_user_makes_it_alert_again()
    {
        using var store = NewStore();
        Learned(store);
        var repo = new BaselineRepository(store);
        Assert.True(repo.Forget("web-1", "998", null) > 0);
        var (filtered, _, _) = Evaluate(repo.Snapshot(), Week.NormalUse(1, start: Later, serial: 90_000, adminChecksCredentials: false));
        Assert.Contains(filtered.Alerts, a => a.Process.User.Uid == 998 && a.Tags.Contains("baseline:new-user"));
        Assert.True(repo.Forget("web-1", null, null) > 0);
        Assert.True(repo.Snapshot().IsEmpty);
    }

    [Fact]
    public void Program_identity_separates_scripts_and_one_liners()
    {
        var analyzer = DetectionRules.Default.Analyzer;
        var p = new ImdsWatch.Events.ProcessSnapshot { Pid = 1, Executable = "/usr/bin/python3.11" };
        Assert.Equal("/usr/bin/python3.11 /opt/a.py", ProgramIdentity.Key(p, analyzer.Analyze(["python3", "/opt/a.py"]), "/opt/a.py"));
        Assert.Equal("/usr/bin/python3.11 -c import os; os.system('x')", ProgramIdentity.Key(p, analyzer.Analyze(["python3", "-c", "import os;\n  os.system('x')"]), null));
        Assert.Equal("/usr/bin/curl", ProgramIdentity.Key(p with { Executable = "/usr/bin/curl" }, analyzer.Analyze(["curl", "x"]), null));
    }
}
