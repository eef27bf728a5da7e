using ImdsWatch.Alerts;

namespace ImdsWatch.Detection;

/// <summary>Keeps what rules emit: the alerts (an access's too) and the accesses, for tools and tests that run a rule alone.</summary>
public sealed class CollectingFindings : IFindings
{
    public List<Alert> Alerts { get; } = [];

    public List<MetadataAccess> Accesses { get; } = [];

    public void Raise(Alert alert) => Alerts.Add(alert);

    public void Record(MetadataAccess access)
    {
        Accesses.Add(access);
        if (access.Alert is not null)
            Alerts.Add(access.Alert);
    }
}
