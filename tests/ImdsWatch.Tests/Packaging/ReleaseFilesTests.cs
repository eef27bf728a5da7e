using System.Text.RegularExpressions;
using ImdsWatch.Cli;

using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Packaging;

/// <summary>The release's one version, and the files the package ships from the repository.</summary>
public sealed class ReleaseFilesTests
{
    private static string Packaging(params string[] parts) => Path.Combine([Repo.Root, "packaging", .. parts]);

    private static (int Exit, string Out) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var exit = Program.Run(args, stdout, new StringWriter());
        return (exit, stdout.ToString());
    }

    [Fact]
    public void Version_option_prints_the_Directory_Build_props_version_and_the_commit()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+", Release.Version);
        var (exit, output) = Cli("--version");
        Assert.Equal(0, exit);
        var printed = Regex.Match(output.Trim(), @"^imdswatch (\S+) \(commit ([0-9a-f]{7,12}|unknown)\)$");
        Assert.True(printed.Success, output);
        Assert.Equal(Release.Version, printed.Groups[1].Value);

        // Built from a checkout, the commit is one of this repository's (HEAD when the tests were built; a commit
        // made since, and `dotnet test --no-build`, leaves them one behind).
        if (Release.Head is not null)
            Assert.Equal(0, Processes.Run("git", ["-C", Repo.Root, "cat-file", "-e", printed.Groups[2].Value + "^{commit}"]).Exit);
    }

    [Fact]
    public void Packaged_audit_rules_are_what_rules_auditd_prints()
    {
        var (exit, rules) = Cli("rules", "auditd");
        Assert.Equal(0, exit);
        Assert.True(rules == File.ReadAllText(Packaging("audit", "50-imdswatch.rules")),
            "packaging/audit/50-imdswatch.rules is out of date: imdswatch rules auditd > packaging/audit/50-imdswatch.rules");
    }

    [Fact]
    public void Packaged_configuration_loads_as_the_defaults()
    {
        var config = ImdsWatch.Config.ImdsWatchConfig.Load(Packaging("etc", "config.yaml"));
        var defaults = new ImdsWatch.Config.ImdsWatchConfig();
        Assert.Equal(defaults.MinSeverity, config.MinSeverity);
        Assert.Equal(defaults.Anomaly.UserThreshold, config.Anomaly.UserThreshold);
        Assert.Empty(config.Agents.Add);

        // Every commented key, uncommented, is a key the configuration knows (the comments do not drift).
        var uncommented = string.Join('\n', File.ReadAllLines(Packaging("etc", "config.yaml"))
            .Where(l => l.StartsWith("# ", StringComparison.Ordinal) && l.Length > 2 && (l[2] == ' ' || char.IsLower(l[2])) && l.Contains(':', StringComparison.Ordinal))
            .Select(l => l[2..]));
        var path = Path.Combine(Directory.CreateTempSubdirectory("imdswatch-config-").FullName, "config.yaml");
        try
        {
            File.WriteAllText(path, uncommented);
            var all = ImdsWatch.Config.ImdsWatchConfig.Load(path);
            Assert.Equal("web-1", all.Host);
            Assert.Equal("acme-inventory", Assert.Single(all.Agents.Add).Name);
            Assert.Equal(7, all.Anomaly.LearningDays);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void Auditd_plugin_ships_inactive_until_the_agent_exists()
    {
        var conf = File.ReadAllLines(Packaging("audit", "imdswatch.conf")).Where(l => !l.StartsWith('#')).ToList();
        Assert.Contains("active = no", conf);
        Assert.Contains("path = /usr/sbin/imdswatch", conf);
    }

    [Fact]
    public void Units_run_the_packaged_binary_as_the_system_user_with_one_capability()
    {
        foreach (var unit in new[] { "imdswatch.service", "imdswatch-once.service" })
        {
            var lines = File.ReadAllLines(Packaging(unit));
            Assert.Contains(lines, l => l.StartsWith("ExecStart=/usr/sbin/imdswatch run ", StringComparison.Ordinal) && l.Contains("--state /var/lib/imdswatch/state.db", StringComparison.Ordinal));
            foreach (var setting in new[] { "User=_imdswatch", "CapabilityBoundingSet=CAP_DAC_READ_SEARCH", "AmbientCapabilities=CAP_DAC_READ_SEARCH", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "UMask=0077", "ReadWritePaths=/var/lib/imdswatch", "StateDirectoryMode=0700" })
                Assert.Contains(setting, lines);
        }
    }
}
