namespace ImdsWatch.Events;

/// <summary>Where a piece of evidence is: file and line, and the record's own id (audit serial, event id).</summary>
public sealed record EvidenceRef(string File, long Line, string RecordId);
