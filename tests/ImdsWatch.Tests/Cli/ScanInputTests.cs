using ImdsWatch.Cli;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Cli;

/// <summary>What scan does with paths it cannot read or that hold no log: says so for each, reads the rest, exits 2.</summary>
public sealed class ScanInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Exit, string Out, string Err) Run(params string[] args) => CliRun.Of(args);

    private string Good()
    {
        var path = Path.Combine(_dir, "good.log");
        File.WriteAllText(path, Exec(10, 500, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"]));
        return path;
    }

    private string Binary(string name = "blob.bin")
    {
        var path = Path.Combine(_dir, name);
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string PackageJson(string name = "package.json")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "{\n  \"name\": \"left-pad\",\n  \"version\": \"1.3.0\",\n  \"main\": \"index.js\"\n}\n");
        return path;
    }

    [Fact]
    public void A_missing_path_does_not_stop_the_others_and_the_exit_says_one_failed()
    {
        var (exit, output, err) = Run("scan", Path.Combine(_dir, "nonexistent"), Good(), "--format", "ndjson");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("nonexistent: no such file or directory", err, StringComparison.Ordinal);
        Assert.Contains("MetadataAPIProcess", output, StringComparison.Ordinal);
        Assert.Contains("1 path(s) not read", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_binary_or_package_json_given_directly_is_refused_not_parsed_as_audit()
    {
        foreach (var file in new[] { Binary(), PackageJson() })
        {
            var (exit, output, err) = Run("scan", file, "--format", "ndjson");
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.Contains($"{file}: not a supported format", err, StringComparison.Ordinal);
            Assert.DoesNotContain("issue", err, StringComparison.Ordinal);
            Assert.Equal("", output);
        }
        var (both, alerts, _) = Run("scan", Binary("b2.bin"), Good(), "--format", "ndjson");
        Assert.Equal(ExitCodes.Usage, both);
        Assert.Contains("MetadataAPIProcess", alerts, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_of_only_unsupported_files_says_how_many_and_that_none_is_supported()
    {
        var folder = Path.Combine(_dir, "junk");
        Directory.CreateDirectory(folder);
        File.Copy(Binary(), Path.Combine(folder, "a.bin"));
        File.Copy(PackageJson(), Path.Combine(folder, "package.json"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "remember the milk\n");
        var (exit, _, err) = Run("scan", folder);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains($"{folder}: 3 file(s), none in a supported format", err, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file_is_read_as_nothing_not_refused()
    {
        var path = Path.Combine(_dir, "audit.log");
        File.WriteAllText(path, "");
        Assert.Equal(ExitCodes.Ok, Run("scan", path, "--format", "ndjson").Exit);
    }

    [Fact]
    public void Events_reads_a_folder_of_syslog_web_and_audit_files()
    {
        var (exit, output, err) = Run("events", Repo.Samples);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.DoesNotContain("no type= field", err, StringComparison.Ordinal);
        Assert.Contains("169.254.169.254", output, StringComparison.Ordinal);
    }
}
