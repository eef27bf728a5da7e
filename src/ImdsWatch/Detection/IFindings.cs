using ImdsWatch.Alerts;

namespace ImdsWatch.Detection;

/// <summary>Where a rule puts what it found.</summary>
public interface IFindings
{
    /// <summary>An alert from a rule that does not track accesses (syslog, web, CloudTrail, the chain, anomalies).</summary>
    void Raise(Alert alert);

    /// <summary>A metadata-service access by a process image, with its alert when it raised one.</summary>
    void Record(MetadataAccess access);
}
