using ImdsWatch.Config;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Runner;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;
using ImdsWatch.Store;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Runner;

/// <summary>A rule with a bug for one record: run and the agent skip that record for that rule, name file and line, and go on.</summary>
public sealed class RuleFailureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-run-").FullName;

    private string Log => Path.Combine(_dir, "audit.log");

    /// <summary>Throws on the exec whose record starts at line 6 (the second of three attacks).</summary>
    private static readonly RuleRegistration Broken = new("broken", RuleStage.Events, _ => new ThrowsAtLine(6));

    private void WriteThreeAttacks() =>
        File.WriteAllText(Log, string.Concat(Enumerable.Range(0, 3).Select(i =>
            Exec((ulong)(10 + i), 500 + i, "/usr/bin/curl", ["curl", "-s", Week.Creds], time: 1_700_000_000 + (i * 10)))));

    [Fact]
    public void A_run_logs_a_rule_failure_with_file_and_line_skips_the_record_and_raises_the_rest()
    {
        WriteThreeAttacks();
        using var store = StateStore.Open(Path.Combine(_dir, "state.db"));
        var runner = new ScheduledRunner(store, EffectiveConfig.Default, new RunOptions()) { ExtraRules = [Broken] };
        var report = runner.RunOnce([Log], DateTimeOffset.FromUnixTimeSeconds(1_700_000_100), new CollectingSink());
        Assert.Equal(3, report.Raised.Count); // the broken rule skipped one record; the detector saw all three
        var warning = Assert.Single(report.Warnings);
        Assert.StartsWith($"internal error at {Log}:6 (InvalidOperationException: bug on purpose)", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void The_agents_live_pipeline_skips_the_record_and_goes_on()
    {
        WriteThreeAttacks();
        var failures = new List<(EvidenceRef, Exception)>();
        var sink = new CollectingSink();
        var live = EffectiveConfig.Default.Pipeline().SkippingRuleFailures((at, e) => failures.Add((at, e)), [Broken]).Start(sink, TimeSpan.FromSeconds(1));
        var source = live.CreateSource(Log);
        foreach (var e in DetectionPipeline.ReadEvents(new InputSource(Log, Log)))
            source.Emit(e);
        live.Complete();
        Assert.Equal(3, sink.Alerts.Count);
        Assert.Equal(6, Assert.Single(failures).Item1.Line);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class ThrowsAtLine(long line) : IDetectionRule
    {
        public void Observe(IObservedEvent e, IFindings findings)
        {
            if (e.Evidence.Line == line)
                throw new InvalidOperationException("bug on purpose");
        }

        public void Complete(IFindings findings)
        {
        }
    }
}
