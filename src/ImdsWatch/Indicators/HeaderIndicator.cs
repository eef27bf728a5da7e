namespace ImdsWatch.Indicators;

/// <summary>A request header that only metadata clients send.</summary>
public sealed record HeaderIndicator(string Name, string? Value, string Provider, AccessClass? Class);
