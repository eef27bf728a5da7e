using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>
/// A receiver that alerts are delivered to from a spool (<see cref="SpooledSink"/>): one call sends a batch, and
/// returns only when the receiver accepted all of it; any failure throws, and the whole batch is sent again.
/// </summary>
public interface IAlertTarget : IDisposable
{
    /// <summary>The most alerts one call may carry (a webhook takes one JSON object a request).</summary>
    int MaxBatch { get; }

    Task SendAsync(IReadOnlyList<SpoolEntry> batch, CancellationToken cancellation);
}
