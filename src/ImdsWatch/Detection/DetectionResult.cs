using ImdsWatch.Alerts;

namespace ImdsWatch.Detection;

public sealed record DetectionResult(IReadOnlyList<Alert> Alerts, IReadOnlyList<MetadataAccess> Accesses);
