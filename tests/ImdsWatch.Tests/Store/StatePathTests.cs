using System.Diagnostics;
using ImdsWatch.Store;

namespace ImdsWatch.Tests.Store;

/// <summary>The state holds command lines with tokens: private modes, an absolute place, no symbolic link followed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StatePathTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-state-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_new_state_is_a_0600_file_in_a_0700_folder()
    {
        var path = Path.Combine(_dir, "new", "state.db");
        using (StateStore.Open(path))
        {
        }
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal(OwnerOnly | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void A_state_an_older_version_left_readable_by_others_is_made_private()
    {
        var path = Path.Combine(_dir, "state.db");
        using (StateStore.Open(path))
        {
        }
        File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using (StateStore.Open(path))
        {
        }
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_state_database_that_is_a_symbolic_link_is_refused_and_its_target_not_created()
    {
        var target = Path.Combine(_dir, "elsewhere.db");
        var link = Path.Combine(_dir, "state.db");
        File.CreateSymbolicLink(link, target);
        var e = Assert.Throws<InvalidDataException>(() => StateStore.Open(link));
        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void A_new_state_is_not_created_through_a_linked_folder()
    {
        var real = Directory.CreateDirectory(Path.Combine(_dir, "real")).FullName;
        var link = Path.Combine(_dir, "linked");
        Directory.CreateSymbolicLink(link, real);
        var e = Assert.Throws<InvalidDataException>(() => StateStore.Open(Path.Combine(link, "state.db")));
        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(real));
    }

    [Fact]
    public async Task A_relative_XDG_STATE_HOME_puts_the_state_under_the_home_folder_never_the_working_directory()
    {
        var home = Directory.CreateDirectory(Path.Combine(_dir, "home")).FullName;
        var work = Directory.CreateDirectory(Path.Combine(_dir, "work")).FullName;
        var log = Path.Combine(_dir, "audit.log");
        File.WriteAllText(log, "");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = work, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "imdswatch.dll"), "run", "--once", log })
            psi.ArgumentList.Add(a);
        psi.Environment["XDG_STATE_HOME"] = "relative/state";
        psi.Environment["HOME"] = home;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, await err);
        Assert.Empty(Directory.GetFileSystemEntries(work));
        var state = Path.Combine(home, ".local", "state", "imdswatch", "state.db");
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(state));
    }
}
