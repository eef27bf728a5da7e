using ImdsWatch.Anomaly;
using ImdsWatch.Detection.Cloud;

namespace ImdsWatch.Detection;

/// <summary>What a rule is built from: the effective configuration's detection settings, and shared counters.</summary>
public sealed record RuleContext
{
    public required DetectionRules Rules { get; init; }

    public CloudTrailOptions Cloud { get; init; } = new();

    /// <summary>The learned baseline, when there is one: anomaly rules need it.</summary>
    public BaselineSnapshot? Baseline { get; init; }

    public AnomalyOptions Anomaly { get; init; } = new();

    /// <summary>What rules saw and set aside, for the summary.</summary>
    public DetectionStats Stats { get; init; } = new();

    /// <summary>Live detection: how long after its last event a folded activity is final (the agent's window).</summary>
    public TimeSpan LiveWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The agent (not a batch scan): an activity that cannot fold further is final soon after its last event, not a
    /// whole <see cref="LiveWindow"/> later, and rules bound what they keep by event time and by count.
    /// </summary>
    public bool Live { get; init; }

    /// <summary>
    /// CloudTrail is among the inputs (a batch scan reads it after the others): only then can a credential fetch
    /// become part of a theft chain, so only then does the chain keep the fetches it sees.
    /// </summary>
    public bool CloudTrailInputs { get; init; } = true;
}
