using ImdsWatch.Indicators;

namespace ImdsWatch.Anomaly;

/// <summary>One line of a baseline: a user or program that reached the metadata service on a host, for one access class.</summary>
public sealed record BaselineEntry(string Host, string Kind, string Subject, string? Label, AccessClass Access, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen)
{
    public const string User = "user";
    public const string Program = "program";
}
