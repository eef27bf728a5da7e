using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>What one process image did to the metadata service: the execs that name it and the connects that reach it.</summary>
internal sealed class ProcessActivity(string? host, int pid)
{
    public string? Host { get; } = host;
    public int Pid { get; } = pid;

    /// <summary>Execs with a metadata reference, outermost (wrapper, shell) first.</summary>
    public List<(ProcessExec Exec, CommandAnalysis Analysis)> AccessExecs { get; } = [];

    /// <summary>The exec that started the image, when it named no endpoint itself (context for a connect).</summary>
    public TrackedImage? Image { get; set; }

    public List<(NetworkConnect Connect, MetadataEndpoint Endpoint)> Connects { get; } = [];

    /// <summary>The process's parents as the log showed them when the activity happened (nearest first).</summary>
    public List<ProcessSnapshot> Ancestors { get; set; } = [];

    public DateTimeOffset FirstSeen => Times().Min();

    /// <summary>The time of the activity's latest event (live detection completes it a window after).</summary>
    public DateTimeOffset LastSeen => Times().Max();

    public ulong FirstSequence => AccessExecs.Count > 0 ? AccessExecs[0].Exec.Sequence
        : Image?.Exec.Sequence ?? Connects[0].Connect.Sequence;

    public ProcessExec? InnermostExec => AccessExecs.Count > 0 ? AccessExecs[^1].Exec : Image?.Exec;

    private IEnumerable<DateTimeOffset> Times()
    {
        foreach (var e in AccessExecs)
            yield return e.Exec.Timestamp;
        foreach (var c in Connects)
            yield return c.Connect.Timestamp;
    }
}
