namespace ImdsWatch.Tests.Reports;

/// <summary>A fact that needs Debian's chromium: skipped without it, except in CI, where test.sh installs it.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public static string? Path { get; } = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    public ChromiumFactAttribute()
    {
        if (Path is null && Environment.GetEnvironmentVariable("CI") != "true")
            Skip = "chromium is not installed (Debian: apt-get install chromium; ./test.sh as root installs it)";
    }
}
