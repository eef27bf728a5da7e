using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// A receiver that alerts are delivered to from a spool (<see cref="SpooledSink"/>): one call sends a batch. A failure
/// of the whole request (refused connection, timeout, non-2xx) throws and the batch is sent again; a receiver that
/// answers per alert (Elasticsearch <c>_bulk</c>, Splunk HEC) says in the result which alerts to send again and which
/// it refused for good.
/// </summary>
public interface IAlertTarget : IDisposable
{
    /// <summary>The most alerts one call may carry.</summary>
    int MaxBatch { get; }

    Task<DeliveryResult> SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation);
}
