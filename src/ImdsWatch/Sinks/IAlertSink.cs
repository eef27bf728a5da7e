using ImdsWatch.Alerts;

namespace ImdsWatch.Sinks;

/// <summary>Where alerts go: an output format, the state store, a receiver. Alerts arrive final and in order.</summary>
public interface IAlertSink
{
    void Emit(Alert alert);

    /// <summary>No more alerts: write what is buffered.</summary>
    void Complete();
}
