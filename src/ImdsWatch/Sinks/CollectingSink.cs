using ImdsWatch.Alerts;

namespace ImdsWatch.Sinks;

/// <summary>Keeps the alerts, for a caller that decides what to do with them (the scheduled runner, tests).</summary>
public sealed class CollectingSink : IAlertSink
{
    public List<Alert> Alerts { get; } = [];

    public void Emit(Alert alert) => Alerts.Add(alert);

    public void Complete()
    {
    }
}
