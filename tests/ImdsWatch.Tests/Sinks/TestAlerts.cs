using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Tests.Sinks;

internal static class TestAlerts
{
    public static Alert Make(int n, Severity severity = Severity.High) => new()
    {
        Id = $"alert{n:D4}",
        Timestamp = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero).AddSeconds(n),
        RuleId = "imds.auditd.process",
        RuleName = "Metadata API access by process command line",
        AlertType = AlertType.MetadataAPIProcess,
        Access = AccessClass.Credentials,
        Severity = severity,
        RiskScore = 80,
        Host = "web-1",
        Process = new ProcessSnapshot { Pid = 1000 + n, Name = "curl", Executable = "/usr/bin/curl" },
        Summary = $"curl fetched credentials ({n})",
    };

    /// <summary>A temporary directory removed when disposed.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("imdswatch-sink-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
