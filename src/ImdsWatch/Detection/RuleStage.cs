namespace ImdsWatch.Detection;

/// <summary>Where in the pipeline a rule sits: on the sources' events, or on the first stage's findings.</summary>
public enum RuleStage
{
    Events,
    Findings,
}
