using System.Globalization;
using System.Text.Json;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Packaging;

/// <summary>
/// The Debian package on this machine: built by packaging/build-deb.sh from the shared native build (lintian runs
/// there when installed), installed with dpkg -i, used as the units use it, removed, purged, and nothing left.
/// systemctl is never called: the checks are on files, modes, owners and the binary itself.
/// </summary>
[Collection(NativeCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DebianPackageTests(NativeBuild build) : IDisposable
{
    private const string User = "_imdswatch";
    private const string State = "/var/lib/imdswatch";

    private readonly string _work = Directory.CreateTempSubdirectory("imdswatch-deb-").FullName;
    private readonly bool _userExisted = Processes.Run("getent", ["passwd", User]).Exit == 0;
    private readonly bool _auditExisted = Directory.Exists("/etc/audit");

    /// <summary>Whatever failed, the machine is left as found: package purged, state and the user it made gone.</summary>
    public void Dispose()
    {
        if (Environment.IsPrivilegedProcess)
        {
            if (Processes.Run("dpkg-query", ["-W", "imdswatch"]).Exit == 0)
                Processes.Run("dpkg", ["--purge", "imdswatch"], timeout: TimeSpan.FromMinutes(2));
            if (Directory.Exists(State))
                Directory.Delete(State, recursive: true);
            if (!_userExisted && Processes.Run("getent", ["passwd", User]).Exit == 0)
                Processes.Run("userdel", [User]);
            if (!_userExisted && Processes.Run("getent", ["group", User]).Exit == 0)
                Processes.Run("groupdel", [User]);
        }
        Directory.Delete(_work, recursive: true);
    }

    private static Processes.Result Must(string file, params string[] args)
    {
        var r = Processes.Run(file, args, timeout: TimeSpan.FromMinutes(5));
        Assert.True(r.Exit == 0, $"{file} {string.Join(' ', args)}: {r}");
        return r;
    }

    /// <summary>"user:group mode" as stat prints it, e.g. "root:root 755".</summary>
    private static string Owner(string path) => Must("stat", "-c", "%U:%G %a", path).Out.Trim();

    [PackageFact]
    public void Package_installs_runs_as_its_system_user_and_purges_clean()
    {
        Must(Path.Combine(Repo.Root, "packaging", "build-deb.sh"), "--binary", build.Binary, "--out", _work);
        var deb = Assert.Single(Directory.GetFiles(_work, "imdswatch_*_amd64.deb"));
        var listing = Must("dpkg-deb", "-c", deb).Out;
        foreach (var f in new[] { "./usr/sbin/imdswatch", "./etc/imdswatch/config.yaml", "./etc/imdswatch/agent.yaml", "./etc/audit/rules.d/50-imdswatch.rules", "./etc/audit/plugins.d/imdswatch.conf", "./lib/systemd/system/imdswatch.service", "./lib/systemd/system/imdswatch-once.timer", "./usr/share/doc/imdswatch/copyright" })
            Assert.Contains(f, listing, StringComparison.Ordinal);
        Assert.DoesNotContain("libe_sqlite3", listing, StringComparison.Ordinal);

        Must("dpkg", "-i", deb);
        Installed_files_have_their_owners_and_modes();
        Installed_binary_scans_the_samples();
        Scheduled_rule_runs_as_the_system_user_with_only_the_read_capability();

        Must("dpkg", "-r", "imdswatch");
        Assert.False(File.Exists("/usr/sbin/imdswatch"));
        Assert.False(File.Exists("/lib/systemd/system/imdswatch.service"));
        Assert.True(File.Exists("/etc/imdswatch/config.yaml"), "remove keeps the conffiles");
        Assert.True(File.Exists($"{State}/state.db"), "remove keeps the state");

        Must("dpkg", "-P", "imdswatch");
        Assert.NotEqual(0, Processes.Run("dpkg-query", ["-W", "imdswatch"]).Exit);
        foreach (var gone in new[] { "/etc/imdswatch", "/etc/audit/rules.d/50-imdswatch.rules", "/etc/audit/plugins.d/imdswatch.conf", State, "/usr/share/doc/imdswatch", "/usr/share/man/man8/imdswatch.8.gz", "/lib/systemd/system/imdswatch-once.service", "/usr/share/lintian/overrides/imdswatch" })
            Assert.False(File.Exists(gone) || Directory.Exists(gone), $"{gone} is left after purge");
        if (!_auditExisted)
            Assert.False(Directory.Exists("/etc/audit"), "/etc/audit, made by the package, is left after purge");
        // Debian keeps system users on purge (a later user with the same uid would own what it left); Dispose
        // removes the one this test made.
        Assert.Equal(0, Processes.Run("getent", ["passwd", User]).Exit);
    }

    private static void Installed_files_have_their_owners_and_modes()
    {
        Assert.Equal("root:root 755", Owner("/usr/sbin/imdswatch"));
        Assert.Equal("root:root 644", Owner("/etc/imdswatch/config.yaml"));
        Assert.Equal("root:root 640", Owner("/etc/audit/rules.d/50-imdswatch.rules"));
        Assert.Equal("root:root 640", Owner("/etc/audit/plugins.d/imdswatch.conf"));
        Assert.Equal("root:root 640", Owner("/etc/imdswatch/agent.yaml"));
        var plugin = File.ReadAllLines("/etc/audit/plugins.d/imdswatch.conf");
        Assert.Contains("active = no", plugin);
        Assert.Contains("path = /usr/sbin/imdswatch", plugin);
        Assert.Contains("args = agent --config=/etc/imdswatch/agent.yaml", plugin);
        // What the plugin would start is ready: the shipped agent configuration passes the agent's own check.
        Must("/usr/sbin/imdswatch", "agent", "--check", "--config=/etc/imdswatch/agent.yaml");
        foreach (var unit in new[] { "imdswatch.service", "imdswatch-once.service", "imdswatch-once.timer" })
            Assert.Equal("root:root 644", Owner("/lib/systemd/system/" + unit));
        Assert.Equal($"{User}:{User} 700", Owner(State));
        Assert.Empty(Directory.GetFileSystemEntries(State));

        // A system user with no shell and no home of its own beyond the state.
        var passwd = Must("getent", "passwd", User).Out.Trim().Split(':');
        Assert.InRange(int.Parse(passwd[2], CultureInfo.InvariantCulture), 1, 999);
        Assert.Equal(State, passwd[5]);
        Assert.Equal("/usr/sbin/nologin", passwd[6]);

        // Nothing enabled: no unit is wanted by any target until the operator says so.
        foreach (var wants in new[] { "/etc/systemd/system/multi-user.target.wants/imdswatch.service", "/etc/systemd/system/timers.target.wants/imdswatch-once.timer" })
            Assert.False(File.Exists(wants), wants);

        if (Processes.OnPath("systemd-analyze"))
        {
            foreach (var unit in new[] { "imdswatch.service", "imdswatch-once.service", "imdswatch-once.timer" })
            {
                var verify = Processes.Run("systemd-analyze", ["verify", "--man=no", "/lib/systemd/system/" + unit]);
                Assert.True(verify.Exit == 0 && verify.Err.Trim().Length == 0, $"systemd-analyze verify {unit}: {verify}");
            }
        }
    }

    private static void Installed_binary_scans_the_samples()
    {
        var scan = Must("/usr/sbin/imdswatch", "scan", Repo.Samples, "--config", "/etc/imdswatch/config.yaml", "--no-baseline", "--format", "ndjson", "--quiet");
        var types = scan.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("imds").GetProperty("alert_type").GetString())
            .ToHashSet();
        Assert.Contains("MetadataAPIProcess", types);
        Assert.Contains("MetadataSSRFAttempt", types);
    }

    /// <summary>
    /// What the units do, without systemd: run --once as _imdswatch holding CAP_DAC_READ_SEARCH alone (ambient,
    /// bounding set of one, no new privileges), on an audit log only root may read, as auditd keeps it.
    /// </summary>
    private void Scheduled_rule_runs_as_the_system_user_with_only_the_read_capability()
    {
        const double t = 1_700_000_000;
        var audit = Path.Combine(_work, "audit");
        Directory.CreateDirectory(audit, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var log = Path.Combine(audit, "audit.log");
        File.WriteAllText(log, Exec(10, 500, "/usr/bin/curl", ["curl", "http://169.254.169.254/latest/meta-data/iam/security-credentials/r"], time: t));
        File.SetUnixFileMode(log, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(_work, File.GetUnixFileMode(_work) | UnixFileMode.OtherExecute);
        var now = DateTimeOffset.FromUnixTimeSeconds((long)t + 60).ToString("O");
        string[] run = ["/usr/sbin/imdswatch", "run", "--once", "--config", "/etc/imdswatch/config.yaml", "--state", $"{State}/state.db", "--now", now, log];
        string[] asUser = ["--reuid", User, "--regid", User, "--clear-groups", "--no-new-privs"];

        var without = Processes.Run("setpriv", [.. asUser, "--inh-caps=-all", "--bounding-set=-all", "--", .. run]);
        // Without the capability the log cannot be read: nothing read, no alert. (run says so as a warning and
        // exits 0, as for a log that is not there yet.)
        Assert.True(without.Exit == 0 && without.Out.Trim().Length == 0 && without.Err.Contains("nothing read", StringComparison.Ordinal), "without the capability: " + without);
        File.Delete($"{State}/state.db");

        var with = Processes.Run("setpriv", [.. asUser, "--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search", "--bounding-set=-all,+dac_read_search", "--", .. run]);
        Assert.True(with.Exit == 0, "as the unit runs it: " + with);
        Assert.Equal("MetadataAPIProcess", JsonDocument.Parse(with.Out.Trim()).RootElement.GetProperty("imds").GetProperty("alert_type").GetString());
        Assert.Equal($"{User}:{User} 600", Owner($"{State}/state.db"));
        Assert.Equal($"{User}:{User} 700", Owner(State));
    }
}
