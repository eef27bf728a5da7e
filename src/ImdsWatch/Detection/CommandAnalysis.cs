using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>What a command line says about metadata access.</summary>
public sealed record CommandAnalysis
{
    public required IReadOnlyList<EndpointReference> References { get; init; }

    /// <summary>True when the command reaches the endpoint, not merely mentions it.</summary>
    public required bool IsAccess { get; init; }

    /// <summary>The program that acts, after wrappers (sudo, env, timeout, ip netns exec…) are stripped.</summary>
    public required string Program { get; init; }

    public required ProgramRole Role { get; init; }
    public string? Reason { get; init; }
    public string? InlineCode { get; init; }
    public string? ScriptPath { get; init; }
    public IReadOnlyList<string> EffectiveArgs { get; init; } = [];
    public IReadOnlyList<HeaderIndicator> Headers { get; init; } = [];

    public static CommandAnalysis Empty(string program) =>
        new() { References = [], IsAccess = false, Program = program, Role = ProgramRole.Other };
}
