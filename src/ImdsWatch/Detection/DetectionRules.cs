using ImdsWatch.Alerts;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>Everything detection consults: the indicator catalog, program roles and the agent allow-list.</summary>
public sealed record DetectionRules(IndicatorCatalog Catalog, ProgramCatalog Programs, AgentAllowList Agents)
{
    public static DetectionRules Default { get; } = new(IndicatorCatalog.Default, ProgramCatalog.Default, AgentAllowList.Default);

    /// <summary>The points every rule scores with.</summary>
    public RiskModel Risk { get; init; } = RiskModel.Default;

    public EndpointReferenceFinder Finder { get; } = new(Catalog);

    public CommandLineAnalyzer Analyzer => _analyzer ??= new CommandLineAnalyzer(Finder, Programs, Catalog);

    /// <summary>The quick test of raw text that says where <see cref="Finder"/> surely finds nothing.</summary>
    public ReferenceCandidates Candidates => _candidates ??= new ReferenceCandidates(Catalog);

    private CommandLineAnalyzer? _analyzer;
    private ReferenceCandidates? _candidates;
}
