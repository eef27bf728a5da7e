using System.IO.Compression;
using System.Reflection.PortableExecutable;
using System.Text.Json;

using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Packaging;

/// <summary>
/// The dotnet tool, one package per runtime: `dotnet tool install ImdsWatch.Tool` on linux-x64 installs the native
/// AOT package, not the framework-dependent fallback. (linux-arm64 is packed by packaging/pack-tool.sh; it needs
/// the cross toolchain and another compile, so this test leaves it out.)
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class ToolPackageTests(NativeBuild build) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("imdswatch-tool-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [NativeFact]
    public void Dotnet_tool_install_on_linux_x64_gets_the_native_build()
    {
        Assert.True(File.Exists(build.Binary));
        var feed = Path.Combine(_work, "feed");
        var project = Path.Combine(Repo.Root, "src", "ImdsWatch.Cli", "ImdsWatch.Cli.csproj");
        string[][] packs = [["-p:PublishAot=true"], ["-r", "linux-x64", "-p:PublishAot=true"], ["-r", "any"]];
        foreach (var extra in packs)
        {
            var pack = Processes.Run("dotnet", ["pack", project, "-c", "Release", "-o", feed, "--nologo", .. extra], timeout: TimeSpan.FromMinutes(15));
            Assert.True(pack.Exit == 0, $"dotnet pack {string.Join(' ', extra)}: {pack}");
        }
        var version = Release.Version;
        Assert.Equal(
            [$"ImdsWatch.Tool.{version}.nupkg", $"ImdsWatch.Tool.any.{version}.nupkg", $"ImdsWatch.Tool.linux-x64.{version}.nupkg"],
            Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // Only the packages just made: no other feed, and a package cache of its own (the user's would keep an
        // earlier build of the same version).
        var config = Path.Combine(_work, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources><clear /><add key="local" value="{feed}" /></packageSources>
            </configuration>
            """);
        var tools = Path.Combine(_work, "tools");
        var env = new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(_work, "packages") };
        var install = Processes.Run("dotnet", ["tool", "install", "ImdsWatch.Tool", "--version", version, "--tool-path", tools, "--configfile", config],
            environment: env, timeout: TimeSpan.FromMinutes(5));
        Assert.True(install.Exit == 0, "dotnet tool install: " + install);

        var run = Processes.Run(Path.Combine(tools, "imdswatch"), ["--version"], environment: env);
        Assert.Equal(0, run.Exit);
        Release.AssertVersionLine(run.Out);

        // Installed: the linux-x64 package's binary (tools/any/linux-x64/imdswatch), and no framework-dependent dll.
        var files = Directory.GetFiles(Path.Combine(tools, ".store"), "*", SearchOption.AllDirectories);
        Assert.DoesNotContain(files, f => Path.GetFileName(f) == "imdswatch.dll");
        var native = Assert.Single(files, f => Path.GetFileName(f) == "imdswatch");
        Assert.Contains("/linux-x64/", native, StringComparison.Ordinal);
        // The whole program, not an apphost in front of a dll (~70 KB): an ELF of tens of MB like the published one.
        Assert.Equal("\u007fELF"u8.ToArray(), File.ReadAllBytes(native)[..4]);
        Assert.InRange(new FileInfo(native).Length, new FileInfo(build.Binary).Length / 2, new FileInfo(build.Binary).Length * 2);
    }
    /// <summary>
    /// Where no native build can be made from Linux (macOS, Windows, musl), the package is framework-dependent
    /// ReadyToRun: the assemblies carry code compiled for that platform, so a scan does not start in the JIT.
    /// </summary>
    [Fact]
    public void Dotnet_tool_package_for_macos_is_compiled_ahead_of_time_and_framework_dependent()
    {
        var feed = Path.Combine(_work, "feed");
        var project = Path.Combine(Repo.Root, "src", "ImdsWatch.Cli", "ImdsWatch.Cli.csproj");
        var pack = Processes.Run("dotnet", ["pack", project, "-c", "Release", "-r", "osx-arm64", "-o", feed, "--nologo"], timeout: TimeSpan.FromMinutes(15));
        Assert.True(pack.Exit == 0, $"dotnet pack -r osx-arm64: {pack}");

        using var package = ZipFile.OpenRead(Path.Combine(feed, $"ImdsWatch.Tool.osx-arm64.{Release.Version}.nupkg"));
        const string tool = "tools/net10.0/osx-arm64/";
        foreach (var assembly in new[] { "imdswatch.dll", "ImdsWatch.Core.dll" })
        {
            var entry = package.GetEntry(tool + assembly);
            Assert.NotNull(entry);
            using var bytes = new MemoryStream();
            using (var stream = entry.Open())
                stream.CopyTo(bytes);
            bytes.Position = 0;
            using var pe = new PEReader(bytes);
            var cor = pe.PEHeaders.CorHeader!;
            Assert.True(cor.ManagedNativeHeaderDirectory.Size > 0, assembly + " has no ReadyToRun code");
            Assert.NotEqual(Machine.I386, pe.PEHeaders.CoffHeader.Machine); // IL only is marked I386
        }
        // Framework-dependent: the shared runtime is named, not carried.
        Assert.Null(package.GetEntry(tool + "System.Private.CoreLib.dll"));
        using var config = JsonDocument.Parse(package.GetEntry(tool + "imdswatch.runtimeconfig.json")!.Open());
        var frameworks = config.RootElement.GetProperty("runtimeOptions").GetProperty("frameworks");
        Assert.Contains(frameworks.EnumerateArray(), f => f.GetProperty("name").GetString() == "Microsoft.NETCore.App");
    }
}
