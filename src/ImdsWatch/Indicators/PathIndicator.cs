namespace ImdsWatch.Indicators;

/// <summary>A metadata-service path: what class of data it serves and for which provider.</summary>
public sealed record PathIndicator(string Prefix, AccessClass Class, string Provider, bool Strong);
