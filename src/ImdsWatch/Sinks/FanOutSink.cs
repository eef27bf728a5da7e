using ImdsWatch.Alerts;

namespace ImdsWatch.Sinks;

/// <summary>Several sinks as one, each given every alert in the order listed (the output before the store).</summary>
public sealed class FanOutSink(params IReadOnlyList<IAlertSink> sinks) : IAlertSink
{
    public void Emit(Alert alert)
    {
        foreach (var sink in sinks)
            sink.Emit(alert);
    }

    public void Complete()
    {
        foreach (var sink in sinks)
            sink.Complete();
    }
}
