namespace ImdsWatch.Alerts;

/// <summary>For alerts from web logs: the request that stands for the alert, as the server logged it.</summary>
public sealed record HttpExchange(string Method, string Target, int Status, string? UserAgent);
