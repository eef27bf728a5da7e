namespace ImdsWatch.Runner;

/// <summary>The schedule of a SIEM rule: every 15 minutes over the last 45, at most 100 alerts a run (the seed's rule).</summary>
public sealed record RunOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan Lookback { get; init; } = TimeSpan.FromMinutes(45);
    public int MaxAlerts { get; init; } = 100;

    /// <summary>Read this much before the look-back too, so a process's exec is there for a connect at the window's edge.</summary>
    public TimeSpan Context { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Add accesses that raised no alert (agents, known programs) to the baseline.</summary>
    public bool Learn { get; init; } = true;

    /// <summary>
    /// How far back a late run (the machine was off, the timer stopped) raises what it missed since the last run;
    /// older alerts are reported as not evaluated.
    /// </summary>
    public TimeSpan MaxCatchUp { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Alerts over --max-alerts kept for later runs; past this many the newest are dropped with a warning.</summary>
    public int MaxHeldBack { get; init; } = 10_000;

    /// <summary>How long a run waits for another run on the same state to finish.</summary>
    public TimeSpan LockWait { get; init; } = TimeSpan.FromSeconds(60);
}
