using ImdsWatch.Events;

namespace ImdsWatch.Detection;

/// <summary>
/// A rule: sees events in their log's order and emits findings — alerts, and metadata-service accesses that
/// baselines learn from. Rules of the event stage see what the sources yield; rules of the findings stage (the
/// chain, the anomaly rules) see the findings of the first, after enrichment: <see cref="Alerts.Alert"/> and
/// <see cref="MetadataAccess"/> events. A rule is registered in one list (<c>Pipeline/RuleRegistry</c>).
/// </summary>
public interface IDetectionRule
{
    /// <summary>One event; a rule ignores the kinds it does not read.</summary>
    void Observe(IObservedEvent e, IFindings findings);

    /// <summary>The end of the input (or of a time window): emit what is still pending.</summary>
    void Complete(IFindings findings);

    /// <summary>
    /// Live use: event time has reached <paramref name="eventTime"/>; emit what can no longer change. A rule whose
    /// findings are final as soon as it sees an event, or only at the end, does nothing here.
    /// </summary>
    void Advance(DateTimeOffset eventTime, IFindings findings)
    {
    }
}
