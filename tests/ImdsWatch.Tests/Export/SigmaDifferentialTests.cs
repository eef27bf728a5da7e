using ImdsWatch.Detection;
using ImdsWatch.Tests.Support;
using Xunit.Abstractions;

namespace ImdsWatch.Tests.Export;

/// <summary>
/// The exported auditd Sigma rules against the engine, event by event, on kernel captures and the shared corpora.
/// Every difference must be one enumerated here, of a kind docs/export.md documents as a limit of Sigma; any other
/// difference, or an enumerated one that went away, fails the test.
/// </summary>
public sealed class SigmaDifferentialTests(ITestOutputHelper output)
{
    /// <summary>The documented kinds of difference (docs/export.md, "Differential test"), each with the fact that shows it.</summary>
    internal static readonly Dictionary<string, Func<EventVerdict, bool>> Kinds = new()
    {
        // SOCKADDR holds no exe: the engine allows the agent by the SYSCALL record's executable path.
        ["agent-by-path"] = v => v.Sigma && !v.Engine && v.Executable is { } exe
            && AgentAllowList.Default.Rules.Any(r => r.Executables.Any(g => Glob.Matches(g, exe))),
        // The engine allows an interpreter by the root-owned script it runs; Sigma sees only the address.
        ["agent-by-script"] = v => v.Sigma && !v.Engine && v.Executable is { } exe
            && ProgramCatalog.Default.Interpreter(Path.GetFileName(exe)) is not null && v.Summary.Contains("saddr=", StringComparison.Ordinal),
        // A SOCKADDR without its SYSCALL record (a fragment): the engine cannot tell a connect from a bind.
        ["sockaddr-without-syscall"] = v => v.Sigma && !v.Engine && v.Executable is null && v.Summary.Contains("saddr=", StringComparison.Ordinal),
        // ip is mention-only (ip route get ADDR) and a wrapper (ip netns exec NS curl ADDR): the rule cannot leave it out.
        ["mention-only-wrapper"] = v => v.Sigma && !v.Engine && v.Summary.Contains(": ip ", StringComparison.Ordinal),
        // Inline interpreter code that only handles the address (ipaddress): the engine reads the code, Sigma the text.
        ["inline-code-mention"] = v => v.Sigma && !v.Engine && ProgramCatalog.Default.Interpreter(Path.GetFileName(v.Executable ?? "")) is not null
            && v.Summary.Contains(" -c ", StringComparison.Ordinal),
    };

    /// <summary>Every expected difference: file, audit serial, kind.</summary>
    private static readonly (string File, ulong Serial, string Kind)[] Expected =
    [
        ("audit-enriched.log", 2492, "agent-by-path"),          // amazon-cloudwatch-agent at its package path
        ("audit-enriched.log", 2521, "agent-by-script"),        // python3 running a root-owned cloud-init module
        ("audit-enriched.log", 2541, "mention-only-wrapper"),   // ip route get 169.254.169.254
        ("audit-enriched.log", 2545, "inline-code-mention"),    // python3 -c "import ipaddress; ..."
        ("audit-raw.log.gz", 1743, "agent-by-path"),
        ("audit-raw.log.gz", 1772, "agent-by-script"),
        ("audit-raw.log.gz", 1792, "mention-only-wrapper"),
        ("audit-raw.log.gz", 1796, "inline-code-mention"),
        ("auparse_testdata_audit-rhel7.log", 688, "sockaddr-without-syscall"), // a SOCKADDR line without its event
    ];

    private static IEnumerable<string> Captures(bool corpora) => corpora
        ? Directory.GetFiles(Path.Combine(Repo.Corpora, "auditd"), "*", SearchOption.AllDirectories)
            .Where(p => p.EndsWith(".log", StringComparison.Ordinal) || p.EndsWith(".txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
        : [Path.Combine(Repo.Samples, "audit-enriched.log"), Path.Combine(Repo.Samples, "audit-raw.log.gz")];

    [Fact]
    public void Sigma_rules_agree_with_the_engine_on_the_kernel_captures_but_for_documented_limits() => Check(corpora: false, minBoth: 100);

    [CorpusFact]
    public void Sigma_rules_agree_with_the_engine_on_the_shared_corpora_but_for_documented_limits() => Check(corpora: true, minBoth: 3);

    private void Check(bool corpora, int minBoth)
    {
        var verdicts = Captures(corpora).SelectMany(SigmaDifferential.Compare).ToList();
        var differences = verdicts.Where(v => v.Engine != v.Sigma).ToList();
        output.WriteLine($"{verdicts.Count} events compared, {verdicts.Count - differences.Count} agree ({verdicts.Count(v => v.Engine && v.Sigma)} alerted by both), {differences.Count} differ");
        foreach (var group in differences.GroupBy(d => Expected.FirstOrDefault(e => e.File == d.File && e.Serial == d.Serial).Kind ?? "UNEXPECTED"))
            output.WriteLine($"  {group.Key}: {group.Count()}");
        foreach (var d in differences)
            output.WriteLine($"  {d.File} {d.Serial} engine={d.Engine} sigma={d.Sigma} {d.Summary} [{string.Join(",", d.SigmaRules)}]");

        var files = verdicts.Select(v => v.File).ToHashSet();
        var expected = Expected.Where(e => files.Contains(e.File)).ToList();
        Assert.Equal(expected.Select(e => (e.File, e.Serial)).Order(), differences.Select(d => (d.File, d.Serial)).Order());
        foreach (var (file, serial, kind) in expected)
        {
            var d = differences.Single(x => x.File == file && x.Serial == serial);
            Assert.True(Kinds[kind](d), $"{file} {serial} is not a case of {kind}: {d.Summary}");
        }
        Assert.True(verdicts.Count(v => v.Engine && v.Sigma) >= minBoth, "too few events alerted by both to mean anything");
    }

    /// <summary>Expected differences of the process_creation and network_connection rules on imdswatch's own events.</summary>
    private static readonly (string File, ulong Serial, string Kind)[] ExpectedEndpoint =
    [
        ("audit-enriched.log (connect)", 2521, "agent-by-script"),
        ("audit-enriched.log (exec)", 2541, "mention-only-wrapper"),
        ("audit-enriched.log (exec)", 2545, "inline-code-mention"),
        ("audit-raw.log.gz (connect)", 1772, "agent-by-script"),
        ("audit-raw.log.gz (exec)", 1792, "mention-only-wrapper"),
        ("audit-raw.log.gz (exec)", 1796, "inline-code-mention"),
    ];

    [Fact]
    public void Process_and_connection_rules_agree_with_the_engine_on_its_own_events_but_for_documented_limits()
    {
        var verdicts = Captures(corpora: false).SelectMany(SigmaDifferential.CompareEvents).ToList();
        var differences = verdicts.Where(v => v.Engine != v.Sigma).ToList();
        output.WriteLine($"{verdicts.Count} events compared, {verdicts.Count - differences.Count} agree ({verdicts.Count(v => v.Engine && v.Sigma)} alerted by both), {differences.Count} differ");
        foreach (var d in differences)
            output.WriteLine($"  {d.File} {d.Serial} engine={d.Engine} sigma={d.Sigma} {d.Summary} [{string.Join(",", d.SigmaRules)}]");
        Assert.Equal(ExpectedEndpoint.Select(e => (e.File, e.Serial)).Order(), differences.Select(d => (d.File, d.Serial)).Order());
        foreach (var (file, serial, kind) in ExpectedEndpoint)
            Assert.True(Kinds[kind](differences.Single(x => x.File == file && x.Serial == serial)), $"{file} {serial} is not a case of {kind}");
        Assert.True(verdicts.Count(v => v.Engine && v.Sigma) >= 100);
    }

    [Fact]
    public void Webserver_rules_agree_with_the_engine_on_the_nginx_capture_request_by_request()
    {
        var path = Path.Combine(Repo.Samples, "web", "access.log");
        var stdout = new StringWriter();
        Assert.Equal(0, ImdsWatch.Cli.Program.Run(["scan", path, "--format", "ndjson", "--no-baseline", "--quiet"], stdout, new StringWriter()));
        var cited = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["imds"]!["evidence"]!.AsArray().Select(e => (long)e!["line"]!)).ToHashSet();
        var rules = ExportFixtures.SigmaDetectionRules.Select(f => SigmaEvaluator.Parse(Path.GetFileName(f.Path), f.Content)).Where(r => r.Category == "webserver").ToList();
        var request = new System.Text.RegularExpressions.Regex("^(\\S+) \\S+ \\S+ \\[[^\\]]+\\] \"(\\S+) ([^ ?\"]*)(?:\\?([^ \"]*))? [^\"]*\" (\\d{3}) ");
        var lines = File.ReadAllLines(path);
        var answered = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var m = request.Match(lines[i]);
            Assert.True(m.Success, lines[i]);
            var e = new SigmaEvent(new Dictionary<string, List<string>>
            {
                ["c-ip"] = [m.Groups[1].Value],
                ["cs-method"] = [m.Groups[2].Value],
                ["cs-uri-stem"] = [m.Groups[3].Value],
                ["cs-uri-query"] = [m.Groups[4].Value],
                ["sc-status"] = [m.Groups[5].Value],
            }, lines[i]);
            Assert.True(cited.Contains(i + 1) == rules.Any(r => r.Matches(e)), $"line {i + 1}: engine {cited.Contains(i + 1)}: {lines[i]}");
            answered += rules.Single(r => r.FileName == "web_imds_ssrf_credentials_answered.yml").Matches(e) ? 1 : 0;
        }
        Assert.Equal(5, cited.Count);
        Assert.Equal(2, answered); // the two credential requests nginx answered 200
    }

    [Fact]
    public void Every_kind_of_difference_is_documented_in_the_export_guide()
    {
        var doc = File.ReadAllText(Path.Combine(Repo.Root, "docs", "export.md"));
        Assert.All(Kinds.Keys, k => Assert.Contains($"`{k}`", doc));
    }
}
