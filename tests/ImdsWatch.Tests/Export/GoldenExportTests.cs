using ImdsWatch.Export;

namespace ImdsWatch.Tests.Export;

/// <summary>
/// Every exported file against its committed copy under golden/, so a change of an export shows in review.
/// After an intended change: IMDSWATCH_UPDATE_GOLDEN=1 dotnet test --filter GoldenExportTests, then review the diff.
/// </summary>
public sealed class GoldenExportTests
{
    public static TheoryData<string> Targets => new() { "sigma", "splunk", "elastic" };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Export_matches_its_golden_files(string target)
    {
        var files = target switch { "sigma" => ExportFixtures.Sigma, "splunk" => ExportFixtures.Splunk, _ => ExportFixtures.Elastic };
        var root = Path.Combine(ExportFixtures.GoldenRoot, target);
        if (Environment.GetEnvironmentVariable("IMDSWATCH_UPDATE_GOLDEN") == "1")
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
            foreach (var f in files)
            {
                var path = Path.Combine(root, f.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, f.Content);
            }
        }
        var golden = Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(golden, files.Select(f => f.Path).Order(StringComparer.Ordinal));
        foreach (var f in files)
            Assert.True(f.Content == File.ReadAllText(Path.Combine(root, f.Path)), $"{target}/{f.Path} differs from its golden copy");
    }
}
