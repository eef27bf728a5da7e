namespace ImdsWatch.Scanning.Prefilter;

/// <summary>
/// What the full parser must see of a log: events that may matter by themselves (by node hash and serial), and
/// the processes whose every exec must be tracked (those events' processes and all their ancestors).
/// </summary>
public sealed class PrefilterSelection
{
    public HashSet<(ulong Node, ulong Serial)> Events { get; } = [];
    public HashSet<(ulong Node, int Pid)> Processes { get; } = [];
    public long Lines { get; set; }
}
