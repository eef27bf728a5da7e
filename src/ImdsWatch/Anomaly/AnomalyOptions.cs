namespace ImdsWatch.Anomaly;

/// <summary>Thresholds as Elastic's rule (user 75, process 50), a learning period, and the bucket that dedups alerts.</summary>
public sealed record AnomalyOptions
{
    public int UserThreshold { get; init; } = 75;
    public int ProcessThreshold { get; init; } = 50;
    public TimeSpan LearningPeriod { get; init; } = TimeSpan.FromDays(7);
    public TimeSpan Bucket { get; init; } = TimeSpan.FromMinutes(15);
}
