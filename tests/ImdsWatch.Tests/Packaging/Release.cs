using System.Text.RegularExpressions;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Packaging;

/// <summary>What a build of this checkout must say about itself: the version of Directory.Build.props, the commit of HEAD.</summary>
internal static class Release
{
    public static string Version { get; } =
        Regex.Match(File.ReadAllText(Path.Combine(Repo.Root, "Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;

    /// <summary>HEAD's commit, or null outside a git checkout (a source tarball).</summary>
    public static string? Head => Processes.Run("git", ["-C", Repo.Root, "rev-parse", "HEAD"]) is { Exit: 0 } head ? head.Out.Trim() : null;

    /// <summary>Asserts a fresh build's version line: this version, and HEAD's commit when there is one.</summary>
    public static void AssertVersionLine(string line)
    {
        var printed = Regex.Match(line.Trim(), @"^imdswatch (\S+) \(commit ([0-9a-f]{7,12}|unknown)\)$");
        Assert.True(printed.Success, line);
        Assert.Equal(Version, printed.Groups[1].Value);
        if (Head is { } head)
            Assert.StartsWith(printed.Groups[2].Value, head, StringComparison.Ordinal);
    }
}
