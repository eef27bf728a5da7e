using ImdsWatch.Fuzz;

namespace ImdsWatch.Tests.Fuzz;

/// <summary>
/// A short fixed-seed round of the fuzz harness over every target (tests/ImdsWatch.Fuzz; the long runs are in its
/// README): the seeds from samples/ and the regression inputs, then mutations of them. Any crash, failed oracle
/// or hang fails the test, and the same seed gives the same inputs, so a failure here reproduces.
/// </summary>
public sealed class FuzzRoundTests
{
    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        // CloudTrail's reader is being rewritten (issue of its own): its target runs in the harness, not here yet.
        foreach (var target in Targets.All.Where(t => t.Name != "cloudtrail"))
            names.Add(target.Name);
        return names;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void A_fixed_seed_round_finds_no_crash_and_no_failed_oracle(string target)
    {
        var options = new Options { Inputs = target == "prefilter-equivalence" ? 300 : 1500, Seed = 1 };
        options.Targets.Add(target);
        var report = new StringWriter();
        var exit = ImdsWatch.Fuzz.Program.RunTargets(options, report);
        Assert.True(exit == 0, report.ToString());
        Assert.Contains(target, report.ToString(), StringComparison.Ordinal);
    }
}
