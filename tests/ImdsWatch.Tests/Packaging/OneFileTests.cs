using System.Text.Json;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Packaging;

/// <summary>The native binary is one file: copied alone, it runs every command, the state ones included.</summary>
[Collection(NativeCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class OneFileTests(NativeBuild build) : IDisposable
{
    private readonly string _alone = Directory.CreateTempSubdirectory("imdswatch-alone-").FullName;

    public void Dispose() => Directory.Delete(_alone, recursive: true);

    [NativeFact]
    public void Native_binary_needs_only_the_C_library_and_is_position_independent()
    {
        var dynamic = Processes.Run("readelf", ["-d", "-h", build.Binary]);
        Assert.Equal(0, dynamic.Exit);
        var needed = dynamic.Out.Split('\n')
            .Where(l => l.Contains("(NEEDED)", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf('[', StringComparison.Ordinal) + 1)..l.IndexOf(']', StringComparison.Ordinal)])
            .ToList();
        Assert.NotEmpty(needed);
        Assert.All(needed, lib => Assert.Contains(lib, new[] { "libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2" }));
        // PIE: the image is randomised like every other binary on the host (ELF type DYN, DF_1_PIE).
        Assert.Contains("DYN (Position-Independent Executable file)", dynamic.Out, StringComparison.Ordinal);
        Assert.Contains("PIE", dynamic.Out.Split('\n').Single(l => l.Contains("(FLAGS_1)", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [NativeFact]
    public void Native_binary_prints_the_release_version_and_the_commit_it_was_built_from()
    {
        var version = Processes.Run(build.Binary, ["--version"]);
        Assert.Equal(0, version.Exit);
        Release.AssertVersionLine(version.Out);
    }

    [NativeFact]
    public void Binary_copied_alone_runs_every_command_that_touches_the_state()
    {
        var binary = Path.Combine(_alone, "imdswatch");
        File.Copy(build.Binary, binary);
        Assert.Equal(["imdswatch"], Directory.GetFileSystemEntries(_alone).Select(Path.GetFileName));
        var state = Path.Combine(_alone, "state", "state.db");
        const double t = 1_700_000_000;
        var log = Path.Combine(_alone, "audit.log");
        File.WriteAllText(log, Exec(10, 500, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/r"], time: t));
        var now = DateTimeOffset.FromUnixTimeSeconds((long)t + 60).ToString("O");

        Processes.Result Run(params string[] args)
        {
            var r = Processes.Run(binary, args, workingDirectory: _alone,
                environment: new Dictionary<string, string?> { ["HOME"] = _alone, ["XDG_STATE_HOME"] = Path.Combine(_alone, "xdg") });
            Assert.True(r.Exit == 0, $"imdswatch {string.Join(' ', args)}: {r}");
            Assert.DoesNotContain("Exception", r.Err, StringComparison.Ordinal);
            return r;
        }

        // The default state (under XDG_STATE_HOME) is made by a command that writes it; reading commands never make one.
        Run("baseline", "learn", Path.Combine(Repo.Samples, "audit-enriched.log"));
        Assert.Contains("0 alert(s)", Run("alerts", "list").Out, StringComparison.Ordinal);
        var run = Run("run", log, "--once", "--now", now, "--state", state);
        var id = JsonDocument.Parse(run.Out.Trim()).RootElement.GetProperty("event").GetProperty("id").GetString()!;
        Assert.Contains(id, Run("alerts", "list", "--state", state).Out, StringComparison.Ordinal);
        Assert.Contains("8. Response", Run("alerts", "show", id, "--state", state).Out, StringComparison.Ordinal);
        Run("alerts", "ack", id, "--note", "test", "--state", state);
        Run("baseline", "learn", Path.Combine(Repo.Samples, "audit-enriched.log"), "--state", state);
        Assert.Contains("host(s)", Run("baseline", "show", "--state", state).Out, StringComparison.Ordinal);
        Assert.Contains("MetadataAPI", Run("scan", Repo.Samples, "--state", state, "--format", "ndjson").Out, StringComparison.Ordinal);

        // Nothing appeared beside the binary but what the commands were told to write, and the state is private.
        Assert.Equal(["audit.log", "imdswatch", "state", "xdg"], Directory.GetFileSystemEntries(_alone).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var dir in new[] { Path.GetDirectoryName(state)!, Path.Combine(_alone, "xdg", "imdswatch") })
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        foreach (var db in new[] { state, Path.Combine(_alone, "xdg", "imdswatch", "state.db") })
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(db));
    }
}
