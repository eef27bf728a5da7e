using ImdsWatch.Alerts;

namespace ImdsWatch.Tests.Alerts;

/// <summary>Every point of the risk model, pinned: a change to risk.yaml fails here and is made on purpose.</summary>
public sealed class RiskModelTests
{
    public static TheoryData<string, int> Points() => new()
    {
        { "host.reached.credentials", 70 }, { "host.reached.token", 50 }, { "host.reached.user-data", 50 },
        { "host.reached.metadata", 35 }, { "host.reached.connect", 21 },
        { "host.role.web-server", 25 }, { "host.role.shell", 15 }, { "host.role.fetch-tool", 10 },
        { "host.role.interpreter-one-liner", 10 }, { "host.shell-socket", 10 }, { "host.writable-location", 20 },
        { "host.obfuscated", 15 }, { "host.terminal", 5 }, { "host.path-only", -10 }, { "host.failed", -10 },
        { "host.agent-impersonation", 10 },
        { "syslog.credentials", 51 }, { "syslog.token", 41 }, { "syslog.user-data", 41 }, { "syslog.other", 31 },
        { "web.credentials", 60 }, { "web.token", 50 }, { "web.user-data", 50 }, { "web.other", 40 },
        { "web.answered", 25 }, { "web.obfuscated", 10 },
        { "cloud.exfiltration", 75 }, { "cloud.outside-aws", 10 }, { "cloud.reconnaissance", 10 }, { "cloud.iam-changes", 15 },
        { "cloud.data-read", 5 }, { "cloud.imdsv1-delivery", 30 }, { "cloud.seed-condition", 50 },
        { "chain.confirmed", 100 },
        { "anomaly.unusual", 21 }, { "anomaly.credentials", 26 }, { "anomaly.coincides", 26 },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public void Each_point_of_the_risk_model_is_pinned(string key, int points) => Assert.Equal(points, RiskModel.Default[key].Points);

    [Fact]
    public void The_model_has_no_point_this_test_does_not_pin() =>
        Assert.Equal(Points().Select(p => (string)p[0]).Order(StringComparer.Ordinal), RiskModel.Default.Points.Keys.Order(StringComparer.Ordinal));

    [Theory]
    [InlineData(85, Severity.Critical)]
    [InlineData(84, Severity.High)]
    [InlineData(65, Severity.High)]
    [InlineData(64, Severity.Medium)]
    [InlineData(40, Severity.Medium)]
    [InlineData(39, Severity.Low)]
    public void Severity_follows_the_thresholds(int score, Severity severity) => Assert.Equal(severity, RiskModel.Default.SeverityOf(score));

    [Fact]
    public void A_score_lists_each_point_with_its_reason_and_stays_within_1_to_100()
    {
        var risk = RiskModel.Default.Start().Add("host.reached.metadata").Add("host.role.fetch-tool").Add("host.writable-location", "/tmp").Clamp();
        Assert.Equal(65, risk.Score);
        Assert.Equal(Severity.High, risk.Severity);
        Assert.Equal(["+35 reached metadata", "+10 interactive fetch tool", "+20 program in a writable location (/tmp)"], risk.Reasons);
        Assert.Equal(100, RiskModel.Default.Start().Add("chain.confirmed").Add("cloud.outside-aws").Clamp().Score);
        Assert.Equal(1, RiskModel.Default.Start().Add("host.failed").Clamp().Score);
    }
}
