using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>An alert the receiver refused for good, and its reason (the receiver's own words).</summary>
public sealed record RejectedAlert(SpoolEntry Entry, string Reason);
