using System.Runtime.InteropServices;

using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Packaging;

/// <summary>
/// The native linux-x64 build, published once per test run (a native AOT compile takes minutes on two cores) and
/// shared by every packaging test: the one-file checks, the dotnet tool and the Debian package. Its obj/ folder is
/// the one `dotnet pack -r linux-x64` uses, so the tool test links again without compiling again.
/// </summary>
public sealed class NativeBuild : IDisposable
{
    public const string SqliteStaticLibrary = "/usr/lib/x86_64-linux-gnu/libsqlite3.a";

    public string Directory { get; }

    public string Binary => Path.Combine(Directory, "imdswatch");

    public NativeBuild()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("imdswatch-native-").FullName;
        // xunit makes the fixture even when every test of the collection is skipped.
        if (MissingPrerequisite() is not null)
            return;
        var publish = Processes.Run("dotnet",
            ["publish", Path.Combine(Repo.Root, "src", "ImdsWatch.Cli"), "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true", "-o", Directory, "--nologo"],
            timeout: TimeSpan.FromMinutes(15));
        if (publish.Exit != 0)
        {
            Dispose();
            throw new InvalidOperationException("the native publish failed: " + publish);
        }
    }

    /// <summary>Why the native build cannot be made here, or null when it can.</summary>
    public static string? MissingPrerequisite()
    {
        if (Environment.GetEnvironmentVariable("IMDSWATCH_SKIP_NATIVE_TESTS") == "1")
            return "IMDSWATCH_SKIP_NATIVE_TESTS=1: the native build (a few minutes on two cores) is not made in this run";
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
            return "the native build test runs on linux-x64";
        if (!Processes.OnPath("clang"))
            return "clang is not installed (apt-get install clang; ./test.sh installs it as root)";
        if (!File.Exists(SqliteStaticLibrary))
            return $"{SqliteStaticLibrary} is missing (apt-get install libsqlite3-dev; ./test.sh installs it as root)";
        return null;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
