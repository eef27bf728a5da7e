using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Packaging;

/// <summary>
/// A fact that installs the Debian package on this machine: root, dpkg and the native build needed, and no
/// imdswatch installed already (the test would replace it, and purge its state).
/// </summary>
public sealed class PackageFactAttribute : FactAttribute
{
    public PackageFactAttribute()
    {
        if (NativeBuild.MissingPrerequisite() is { } reason)
            Skip = reason;
        else if (!Environment.IsPrivilegedProcess)
            Skip = "installs a Debian package: root only (./test.sh as root runs it)";
        else if (new[] { "dpkg", "dpkg-deb", "setpriv", "adduser" }.FirstOrDefault(c => !Processes.OnPath(c) && !File.Exists("/usr/sbin/" + c)) is { } missing)
            Skip = $"{missing} is not installed";
        else if (Processes.Run("dpkg-query", ["-W", "-f", "${db:Status-Status}", "imdswatch"]).Out is "installed" or "config-files" or "half-configured" or "unpacked" or "half-installed")
            Skip = "an imdswatch package is installed on this machine; the test will not replace it";
        else if (Directory.Exists("/var/lib/imdswatch"))
            Skip = "/var/lib/imdswatch exists (state of an earlier install); the test will not purge it";
    }
}
