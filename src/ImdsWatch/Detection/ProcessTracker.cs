using ImdsWatch.Events;

namespace ImdsWatch.Detection;

/// <summary>
/// The latest exec seen for each (host, pid): the process image a later connect belongs to, and the chain of
/// parents for ancestry. An image is remembered for <see cref="Window"/> serials after its exec: the decision
/// depends only on the two events' own serials, never on how many other processes were seen in between, so a
/// scan that skipped unrelated events (the prefilter) remembers exactly what a full scan remembers.
/// </summary>
public sealed class ProcessTracker(ulong window = ProcessTracker.DefaultWindow)
{
    public const ulong DefaultWindow = 65_536;

    /// <summary>The agent's bounds: a month-long run on a busy host keeps at most this many images, none older.</summary>
    public const int LiveMaxEntries = 100_000;
    public static readonly TimeSpan LiveMaxAge = TimeSpan.FromHours(6);

    /// <summary>The name of this table in <see cref="DetectionStats.Evicted"/>.</summary>
    public const string EvictedName = "process-table";

    // The current image of each (host, pid), and every exec recorded, oldest first. An exec replaced by a later one
    // of its pid stays in the queue until it reaches the front, and is dropped there without touching the table (it
    // is no longer the table's): one array slot per exec instead of a linked-list node. The table holds the bare
    // exec until someone asks for its image (an alert's process, its ancestors): most of the ~40,000 images a full
    // scan keeps are never asked for, and their TrackedImage was one more object each that outlived gen0.
    private readonly Dictionary<(string? Host, int Pid), object> _byPid = new(HostPidComparer.Instance); // ProcessExec or TrackedImage
    private readonly Queue<ProcessExec> _byAge = new();

    public ulong Window => window;

    /// <summary>Live: at most this many images (the oldest go first, counted); null: bounded by the serial window alone.</summary>
    public int? MaxEntries { get; init; }

    /// <summary>Live: an image older than this in event time is forgotten (ancestry of a long-lived shell is lost).</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>Where evictions at <see cref="MaxEntries"/> are counted.</summary>
    public DetectionStats? Stats { get; init; }

    /// <summary>What reads the command line of an exec recorded bare (<see cref="Record(ProcessExec)"/>) once its image is asked for.</summary>
    public CommandLineAnalyzer? Analyzer { get; init; }

    public int Count => _byPid.Count;

    public void Record(ProcessExec exec, CommandAnalysis analysis) => Record(new TrackedImage(exec, analysis));

    public void Record(TrackedImage image) => Add(image.Exec, image);

    /// <summary>An exec whose image is made only when asked for (needs <see cref="Analyzer"/>).</summary>
    public void Record(ProcessExec exec) => Add(exec, exec);

    private void Add(ProcessExec exec, object entry)
    {
        _byPid[(exec.Host, exec.Process.Pid)] = entry;
        _byAge.Enqueue(exec);
        // Forget what no later event can reach any more (events arrive in serial order, give or take the
        // assembler's slack, which is far inside the window).
        while (Oldest() is { } oldest && !Within(oldest.Sequence, exec.Sequence))
            Forget();
        if (MaxAge is { } age)
        {
            while (Oldest() is { } oldest && exec.Timestamp - oldest.Timestamp > age)
                Forget();
        }
        if (MaxEntries is { } max)
        {
            while (_byPid.Count > max && Oldest() is not null)
            {
                Forget();
                if (Stats is not null)
                    Stats.Evicted[EvictedName] = Stats.Evicted.GetValueOrDefault(EvictedName) + 1;
            }
        }
    }

    private static ProcessExec ExecOf(object entry) => entry as ProcessExec ?? ((TrackedImage)entry).Exec;

    /// <summary>The oldest exec still current, the replaced ones before it dropped.</summary>
    private ProcessExec? Oldest()
    {
        while (_byAge.TryPeek(out var oldest))
        {
            if (_byPid.TryGetValue((oldest.Host, oldest.Process.Pid), out var current) && ReferenceEquals(ExecOf(current), oldest))
                return oldest;
            _byAge.Dequeue();
        }
        return null;
    }

    /// <summary>Forgets the exec <see cref="Oldest"/> returned.</summary>
    private void Forget()
    {
        var oldest = _byAge.Dequeue();
        _byPid.Remove((oldest.Host, oldest.Process.Pid));
    }

    /// <summary>The image of (host, pid) as an event with serial <paramref name="at"/> sees it.</summary>
    public TrackedImage? Current(string? host, int pid, ulong at)
    {
        if (!_byPid.TryGetValue((host, pid), out var entry) || !Within(ExecOf(entry).Sequence, at))
            return null;
        if (entry is TrackedImage image)
            return image;
        // Made once, then kept in the table: every later asker sees the same image (its analysis, its ended mark).
        image = new TrackedImage((ProcessExec)entry, Analyzer ?? throw new InvalidOperationException("a bare exec needs the tracker's Analyzer"));
        _byPid[(host, pid)] = image;
        return image;
    }

    /// <summary>Parents, nearest first, as far as the log shows them (at most <paramref name="depth"/>).</summary>
    public IEnumerable<ProcessSnapshot> Ancestors(string? host, ProcessSnapshot process, ulong at, int depth = 8)
    {
        var ppid = process.ParentPid;
        var seen = new HashSet<int> { process.Pid };
        for (var i = 0; i < depth && ppid is { } p && p > 0 && seen.Add(p); i++)
        {
            if (Current(host, p, at) is not { } parent)
                yield break;
            yield return parent.Exec.Process;
            ppid = parent.Exec.Process.ParentPid;
        }
    }

    /// <summary>True when <paramref name="exec"/> is no more than the window before (or shortly after) <paramref name="at"/>.</summary>
    private bool Within(ulong exec, ulong at) =>
        at >= exec ? at - exec <= window : exec - at <= window; // out-of-order events by a few serials either way
}

/// <summary>
/// (host, pid) compared as the default comparer does, hashed without hashing the host name: a scan records every exec
/// (three lookups each), hosts are few and pids many, and the randomized string hash of the host was most of the cost.
/// </summary>
internal sealed class HostPidComparer : IEqualityComparer<(string? Host, int Pid)>
{
    public static HostPidComparer Instance { get; } = new();

    public bool Equals((string? Host, int Pid) x, (string? Host, int Pid) y) => x.Pid == y.Pid && string.Equals(x.Host, y.Host, StringComparison.Ordinal);

    public int GetHashCode((string? Host, int Pid) key) =>
        key.Pid ^ (key.Host is { Length: > 0 } h ? (h.Length * 31 + h[0] + (h[^1] << 8)) << 20 : 0);
}

/// <summary>An exec and what its command line says, worked out when first asked: most images only ever serve as ancestry.</summary>
public sealed class TrackedImage
{
    private readonly CommandLineAnalyzer? _analyzer;
    private CommandAnalysis? _analysis;

    public TrackedImage(ProcessExec exec, CommandAnalysis analysis, CommandLineAnalyzer? analyzer = null)
    {
        Exec = exec;
        _analysis = analysis;
        _analyzer = analyzer;
    }

    public TrackedImage(ProcessExec exec, CommandLineAnalyzer analyzer)
    {
        Exec = exec;
        _analyzer = analyzer;
    }

    public ProcessExec Exec { get; }

    public CommandAnalysis Analysis => _analysis ??= _analyzer!.Analyze(Exec.Process.Args);

    /// <summary>
    /// An activity of this image was final before the image stopped connecting (a batch scan's window, the
    /// agent's): a later connect opens an activity named by that connect, not a second alert of the same id. The
    /// analysis is let go then (worked out again if a later connect asks): the tracker keeps tens of thousands of
    /// images for ancestry, and an alert's analysis is the largest part of one.
    /// </summary>
    internal bool ActivityEnded
    {
        get => _ended;
        set
        {
            _ended = value;
            if (value && _analyzer is not null)
                _analysis = null;
        }
    }

    private bool _ended;
}
