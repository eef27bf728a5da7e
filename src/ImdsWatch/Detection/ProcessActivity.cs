using System.Net.Sockets;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// What one process image did to the metadata service: the execs that name it and the connects that reach it.
/// Its times and what an alert reads of its connects are kept as they arrive, so an image that polls the service
/// a million times holds the first <see cref="KeptConnects"/> connects, not a million.
/// </summary>
internal sealed class ProcessActivity(string? host, int pid, long ordinal)
{
    /// <summary>Connects kept as evidence (an alert lists at most this many; the rest are counted).</summary>
    public const int KeptConnects = 50;

    public string? Host { get; } = host;
    public int Pid { get; } = pid;

    /// <summary>The order the detector opened its activities in (ties of time are broken by it).</summary>
    public long Ordinal { get; } = ordinal;

    /// <summary>Execs with a metadata reference, outermost (wrapper, shell) first.</summary>
    public List<(ProcessExec Exec, CommandAnalysis Analysis)> AccessExecs { get; } = [];

    /// <summary>The exec that started the image, when it named no endpoint itself (context for a connect).</summary>
    public TrackedImage? Image { get; set; }

    /// <summary>The first <see cref="KeptConnects"/> connects to a metadata endpoint.</summary>
    public List<(NetworkConnect Connect, MetadataEndpoint Endpoint)> Connects { get; } = [];

    /// <summary>Every connect, kept or not.</summary>
    public int ConnectCount { get; private set; }

    /// <summary>Some connect went to an IPv6 address that embeds an IPv4 one (::ffff:169.254.169.254).</summary>
    public bool AnyIPv4InIPv6 { get; private set; }

    /// <summary>Every connect failed (false with none).</summary>
    public bool AllFailed => ConnectCount > 0 && _failed == ConnectCount;

    /// <summary>The highest outcome of its connects (Success &lt; InProgress &lt; Failure &lt; Unknown).</summary>
    public ConnectOutcome MaxOutcome { get; private set; }

    /// <summary>The keys of <see cref="MetadataAccessDetector"/>'s image table that lead here.</summary>
    public List<(string? Host, int Pid, ulong Image)> Keys { get; } = [];

    /// <summary>The images it covers (their exec, or the image a connect came from).</summary>
    public List<TrackedImage> Images { get; } = [];

    /// <summary>
    /// Opened by a connect of an image whose earlier activity was already final (silent longer than the batch
    /// window): its alert is named by its own first connect, not by the image's exec.
    /// </summary>
    public bool Continues { get; init; }

    /// <summary>The processes's parents as the log showed them when the activity happened (nearest first).</summary>
    public List<ProcessSnapshot> Ancestors { get; set; } = [];

    public DateTimeOffset FirstSeen { get; private set; } = DateTimeOffset.MaxValue;

    /// <summary>The time of the activity's latest event (it is final a window after).</summary>
    public DateTimeOffset LastSeen { get; private set; } = DateTimeOffset.MinValue;

    private int _failed;

    public ulong FirstSequence => AccessExecs.Count > 0 ? AccessExecs[0].Exec.Sequence
        : !Continues && Image is not null ? Image.Exec.Sequence : Connects[0].Connect.Sequence;

    public ProcessExec? InnermostExec => AccessExecs.Count > 0 ? AccessExecs[^1].Exec : Image?.Exec;

    public void AddExec(ProcessExec exec, CommandAnalysis analysis)
    {
        AccessExecs.Add((exec, analysis));
        Saw(exec.Timestamp);
    }

    public void AddConnect(NetworkConnect connect, MetadataEndpoint endpoint)
    {
        if (Connects.Count < KeptConnects)
            Connects.Add((connect, endpoint));
        ConnectCount++;
        if (connect.Outcome == ConnectOutcome.Failure)
            _failed++;
        if (connect.Outcome > MaxOutcome || ConnectCount == 1)
            MaxOutcome = connect.Outcome;
        if (connect.Destination.AddressFamily == AddressFamily.InterNetworkV6
            && AddressSpelling.Fold(connect.Destination).AddressFamily == AddressFamily.InterNetwork)
            AnyIPv4InIPv6 = true;
        Saw(connect.Timestamp);
    }

    private void Saw(DateTimeOffset time)
    {
        if (time < FirstSeen)
            FirstSeen = time;
        if (time > LastSeen)
            LastSeen = time;
    }
}
