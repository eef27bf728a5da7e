using ImdsWatch.Detection;

namespace ImdsWatch.Tests.Detection;

public sealed class ArgvVerdictsTests
{
    [Fact]
    public void An_argv_array_seen_again_gets_the_verdict_of_its_own_words()
    {
        var rules = DetectionRules.Default;
        var verdicts = new ArgvVerdicts(rules);
        string[][] arrays =
        [
            ["curl", "http://169.254.169.254/latest/meta-data/"],
            ["ls", "-l"],
            ["wget", "-qO-", "metadata.google.internal"],
            ["grep", "-q", "x"],
        ];
        for (var round = 0; round < 3; round++)
        {
            foreach (var args in arrays)
                Assert.Equal(rules.Candidates.MayReference(args), verdicts.MayReference(args));
        }
        Assert.True(verdicts.MayReference(arrays[0]));
        Assert.False(verdicts.MayReference(arrays[1]));
        // Many more arrays than slots: each still answers for its own words, never for another's.
        for (var n = 0; n < 5000; n++)
        {
            string[] args = n % 2 == 0 ? ["curl", $"http://169.254.169.254/{n}"] : ["echo", $"{n}"];
            Assert.Equal(n % 2 == 0, verdicts.MayReference(args));
            Assert.Equal(n % 2 == 0, verdicts.MayReference(args));
        }
        Assert.Equal(rules.Candidates.MayReference(new List<string> { "ls" }), verdicts.MayReference(new List<string> { "ls" }));
        Assert.False(verdicts.MayReference([]));
    }
}
