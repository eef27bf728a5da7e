using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;

namespace ImdsWatch.Agent;

/// <summary>What one configuration of the agent runs: the live pipeline and the sinks behind it.</summary>
public sealed record AgentRuntime(LivePipeline Pipeline, IReadOnlyList<IAlertSink> Sinks) : IDisposable
{
    public void Dispose()
    {
        foreach (var sink in Sinks.OfType<IDisposable>())
            sink.Dispose();
    }
}
