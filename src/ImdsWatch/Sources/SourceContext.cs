using ImdsWatch.Events;

namespace ImdsWatch.Sources;

/// <summary>
/// What a source reads into: events and issues go to the pipeline in the order the input has them, and the
/// source counts what it read in <see cref="Stats"/>. One context per input.
/// </summary>
public sealed class SourceContext(int sourceId, string name, string? defaultHost, Action<IObservedEvent> emit, Action<long, string> issue, SyntheticSequence sequence)
{
    public int SourceId { get; } = sourceId;

    /// <summary>The input's name as evidence shows it (the file's path, or &lt;stdin&gt;).</summary>
    public string Name { get; } = name;

    /// <summary>Host name for records that carry none (audit records without node=).</summary>
    public string? DefaultHost { get; } = defaultHost;

    public SourceStats Stats { get; } = new();

    /// <summary>Called now and then with the bytes of this input read so far.</summary>
    public Action<long>? Progress { get; init; }

    /// <summary>Order for events from logs without serials (syslog), across all inputs of a pipeline run.</summary>
    public SyntheticSequence Sequence { get; } = sequence;

    public void Emit(IObservedEvent e) => emit(e);

    /// <summary>A line that could not be read: counted, reported with this input's name and the line, skipped.</summary>
    public void Issue(long line, string reason) => issue(line, reason);
}

/// <summary>Serials for events whose log has none: one counter for a whole pipeline run, so ids stay stable.</summary>
public sealed class SyntheticSequence
{
    private ulong _next = 1UL << 48;

    public ulong Next() => _next++;
}
