using System.Text;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Indicators;
using ImdsWatch.Sources.Syslog;

namespace ImdsWatch.Tests.Indicators;

/// <summary>
/// Text that names a host thousands of times (an exec whose 128 KB argument repeats <c>169.254.169.254/</c>, a
/// 128 KB syslog line) once made every host read the rest of the text as its path: 1.6 GB and seconds for one
/// record. What is kept per text is now bounded, and what detection weighs is still found. Time is measured by
/// bench/hostile.sh, not here.
/// </summary>
public sealed class HostileTextTests
{
    private static readonly EndpointReferenceFinder Finder = DetectionRules.Default.Finder;

    private static string Repeat(string unit, int bytes = 128 * 1024) => new StringBuilder().Insert(0, unit, bytes / unit.Length).ToString();

    [Fact]
    public void A_text_repeating_a_metadata_host_keeps_a_bounded_list_of_short_paths()
    {
        var found = Finder.Find(Repeat("169.254.169.254/"));
        Assert.InRange(found.Count, 1, EndpointReferenceFinder.MaxPlainReferences + 8);
        Assert.All(found, r => Assert.InRange(r.Path?.Length ?? 0, 0, EndpointReferenceFinder.MaxPathChars + 1));
    }

    [Fact]
    public void A_credentials_url_after_thousands_of_decoy_hosts_is_still_found_and_classified()
    {
        var found = Finder.Find(Repeat("169.254.169.254/ ") + "http://169.254.169.254/latest/meta-data/iam/security-credentials/role");
        Assert.Contains(found, r => r.Class == AccessClass.Credentials && r.IsUrl);
        Assert.InRange(found.Count, 1, EndpointReferenceFinder.MaxPlainReferences + 8);
    }

    [Fact]
    public void Every_spelling_is_kept_however_many_plain_references_come_first()
    {
        var found = Finder.Find(Repeat("169.254.169.254 ", 4096) + "http://2852039166/ http://decoy@169.254.169.254/");
        Assert.Contains(found, r => r.Obfuscation.HasFlag(ObfuscationKind.NumericSpelling));
        Assert.Contains(found, r => r.Obfuscation.HasFlag(ObfuscationKind.UserInfo));
    }

    [Theory]
    [InlineData("http://decoy@169.254.169.254/latest/", true)]
    [InlineData("a@b@c http://x@y@169.254.169.254/", true)]
    [InlineData("http://x/y@169.254.169.254/", false)]
    [InlineData("http://x y@169.254.169.254/", false)]
    [InlineData("user@169.254.169.254", false)]
    public void User_info_is_told_by_the_last_scheme_before_the_at_sign(string text, bool userInfo)
    {
        var found = Finder.Find(text);
        Assert.NotEmpty(found);
        Assert.Equal(userInfo, found.Any(r => r.Obfuscation.HasFlag(ObfuscationKind.UserInfo)));
    }

    [Theory]
    [InlineData("/latest//meta-data/./iam/../iam/security-credentials/", "/latest/meta-data/iam/security-credentials/")]
    [InlineData("/../..//", "/")]
    [InlineData("", "/")]
    [InlineData("/a/b/..?x=/../y", "/a?x=/../y")]
    [InlineData("latest/meta-data", "/latest/meta-data")]
    public void Paths_are_normalized_as_a_server_would(string path, string normalized) =>
        Assert.Equal(normalized, EndpointReferenceFinder.NormalizePath(path));

    [Fact]
    public void A_program_logging_ten_thousand_mentions_is_one_alert_holding_fifty_lines_of_evidence()
    {
        var rule = new SyslogMentionRule(new RuleContext { Rules = DetectionRules.Default });
        var found = new CollectingFindings();
        var message = "GET http://169.254.169.254/latest/meta-data/ " + Repeat("x", 100_000);
        for (var i = 1; i <= 10_000; i++)
        {
            rule.Observe(new LogMessage
            {
                Timestamp = DateTimeOffset.UnixEpoch.AddSeconds(i),
                Host = "vm",
                Program = "app",
                Pid = 7,
                Message = message,
                Evidence = new EvidenceRef("syslog", i, $"syslog:{i}"),
            }, found);
        }
        rule.Complete(found);
        var alert = Assert.Single(found.Alerts);
        Assert.Equal(50, alert.Evidence.Count);
        Assert.Contains("logged 10000 message(s)", alert.Summary, StringComparison.Ordinal);
        Assert.InRange(alert.Summary.Length, 0, 1200);
    }
}
