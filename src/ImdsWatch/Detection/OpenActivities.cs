namespace ImdsWatch.Detection;

/// <summary>
/// The detector's open activities, by host. A batch scan sweeps each host's by that host's own event time, so logs
/// of several hosts read one after the other, or interleaved with clocks apart, finalise each host's activities by
/// its own clock, never another's (an activity folds only with events of its own host).
/// </summary>
internal sealed class OpenActivities
{
    private readonly Dictionary<string, HostActivities> _byHost = new(StringComparer.Ordinal);

    public int Count { get; private set; }

    public void Add(ProcessActivity activity)
    {
        HostOf(activity.Host).List.Add(activity);
        Count++;
    }

    /// <summary>
    /// True when <paramref name="host"/>'s clock, now at <paramref name="time"/>, has moved <paramref name="step"/>
    /// since its last sweep, or gone back (the time of that sweep is then <paramref name="time"/>).
    /// </summary>
    public bool SweepDue(string? host, DateTimeOffset time, TimeSpan step)
    {
        var h = HostOf(host);
        if (time >= h.LastSweep && time - h.LastSweep < step)
            return false;
        h.LastSweep = time;
        return true;
    }

    /// <summary>Takes out the activities <paramref name="due"/> picks, of one host or (null) of all.</summary>
    public List<ProcessActivity>? Take(Func<ProcessActivity, bool> due, string? host = null, bool allHosts = true)
    {
        List<ProcessActivity>? taken = null;
        if (!allHosts)
            Take(HostOf(host).List, due, ref taken);
        else
        {
            foreach (var h in _byHost.Values)
                Take(h.List, due, ref taken);
        }
        return taken;
    }

    public List<ProcessActivity> TakeAll() => Take(static _ => true) ?? [];

    /// <summary>The last-event times of every open activity, oldest first.</summary>
    public List<DateTimeOffset> LastSeenTimes() => [.. _byHost.Values.SelectMany(h => h.List).Select(a => a.LastSeen).Order()];

    private void Take(List<ProcessActivity> list, Func<ProcessActivity, bool> due, ref List<ProcessActivity>? taken)
    {
        var kept = 0;
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (due(a))
                (taken ??= []).Add(a);
            else
                list[kept++] = a;
        }
        Count -= list.Count - kept;
        list.RemoveRange(kept, list.Count - kept);
    }

    private HostActivities HostOf(string? host)
    {
        var key = host ?? "";
        if (!_byHost.TryGetValue(key, out var h))
            _byHost.Add(key, h = new HostActivities());
        return h;
    }

    private sealed class HostActivities
    {
        public List<ProcessActivity> List { get; } = [];

        public DateTimeOffset LastSweep { get; set; } = DateTimeOffset.MinValue;
    }
}
