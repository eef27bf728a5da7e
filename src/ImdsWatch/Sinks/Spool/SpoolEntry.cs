namespace ImdsWatch.Sinks.Spool;

/// <summary>One spooled alert: its id, its JSON, and where its line ends in the spool.</summary>
public sealed record SpoolEntry(string Id, string Json, long Segment, long End);
