using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>Everything detection consults: the indicator catalog, program roles and the agent allow-list.</summary>
public sealed record DetectionRules(IndicatorCatalog Catalog, ProgramCatalog Programs, AgentAllowList Agents)
{
    public static DetectionRules Default { get; } = new(IndicatorCatalog.Default, ProgramCatalog.Default, AgentAllowList.Default);

    public EndpointReferenceFinder Finder { get; } = new(Catalog);

    public CommandLineAnalyzer Analyzer => _analyzer ??= new CommandLineAnalyzer(Finder, Programs, Catalog);

    private CommandLineAnalyzer? _analyzer;
}
