using ImdsWatch.Events;

namespace ImdsWatch.Detection;

/// <summary>
/// The latest exec seen for each (host, pid): the process image a later connect belongs to, and the
/// chain of parents for ancestry. Bounded: the least recently used entries go first.
/// </summary>
public sealed class ProcessTracker(int capacity = 65_536)
{
    private readonly Dictionary<(string? Host, int Pid), LinkedListNode<TrackedImage>> _byPid = [];
    private readonly LinkedList<TrackedImage> _lru = new();

    public void Record(ProcessExec exec, CommandAnalysis analysis)
    {
        var key = (exec.Host, exec.Process.Pid);
        if (_byPid.TryGetValue(key, out var old))
            _lru.Remove(old);
        var node = _lru.AddFirst(new TrackedImage(exec, analysis));
        _byPid[key] = node;
        if (_byPid.Count > capacity && _lru.Last is { } last)
        {
            _lru.RemoveLast();
            _byPid.Remove((last.Value.Exec.Host, last.Value.Exec.Process.Pid));
        }
    }

    public TrackedImage? Current(string? host, int pid) =>
        _byPid.TryGetValue((host, pid), out var node) ? node.Value : null;

    /// <summary>Parents, nearest first, as far as the log shows them (at most <paramref name="depth"/>).</summary>
    public IEnumerable<ProcessSnapshot> Ancestors(string? host, ProcessSnapshot process, int depth = 8)
    {
        var ppid = process.ParentPid;
        var seen = new HashSet<int> { process.Pid };
        for (var i = 0; i < depth && ppid is { } p && p > 0 && seen.Add(p); i++)
        {
            if (Current(host, p) is not { } parent)
                yield break;
            yield return parent.Exec.Process;
            ppid = parent.Exec.Process.ParentPid;
        }
    }
}

public sealed record TrackedImage(ProcessExec Exec, CommandAnalysis Analysis);
