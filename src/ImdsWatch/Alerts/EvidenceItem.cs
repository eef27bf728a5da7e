namespace ImdsWatch.Alerts;

/// <summary>One record behind an alert: what it shows, and where to find it.</summary>
public sealed record EvidenceItem(string Kind, string File, long Line, string RecordId, string Detail);
