using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// What a receiver did with a batch it answered: everything not listed here was accepted. <see cref="Retry"/> holds
/// the alerts it could not take now (Elasticsearch item 429/5xx, …), sent again with backoff; <see cref="Rejected"/>
/// those it will never take (a mapping error): they are kept aside in the spool's rejected file, counted and logged.
/// </summary>
public sealed record DeliveryResult(IReadOnlyList<SpoolEntry> Retry, IReadOnlyList<RejectedAlert> Rejected)
{
    public static readonly DeliveryResult AllAccepted = new([], []);

    public bool Complete => Retry.Count == 0;
}
