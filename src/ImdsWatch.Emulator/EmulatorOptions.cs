namespace ImdsWatch.Emulator;

public sealed record EmulatorOptions
{
    /// <summary>URLs to listen on; by default only loopback on a high port.</summary>
    public IReadOnlyList<string> Urls { get; init; } = ["http://127.0.0.1:18169"];

    /// <summary>When true, AWS metadata needs an IMDSv2 session token (as on instances with HttpTokens=required).</summary>
    public bool RequireImdsV2 { get; init; }

    /// <summary>Each request as one JSON line, when set.</summary>
    public string? RequestLog { get; init; }
}
