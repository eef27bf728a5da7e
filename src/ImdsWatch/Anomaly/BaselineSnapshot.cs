using ImdsWatch.Indicators;

namespace ImdsWatch.Anomaly;

/// <summary>The baseline in memory, indexed for the questions detection asks of it.</summary>
public sealed class BaselineSnapshot
{
    private readonly Dictionary<(string Host, string Kind, string Subject), List<BaselineEntry>> _bySubject = [];
    private readonly Dictionary<(string Kind, string Subject), HashSet<string>> _hostsBySubject = [];
    private readonly IReadOnlyDictionary<string, (DateTimeOffset First, DateTimeOffset Last)> _hosts;

    public BaselineSnapshot(IEnumerable<BaselineEntry> entries, IReadOnlyDictionary<string, (DateTimeOffset First, DateTimeOffset Last)> hosts)
    {
        _hosts = hosts;
        foreach (var e in entries)
        {
            var key = (e.Host, e.Kind, e.Subject);
            if (!_bySubject.TryGetValue(key, out var list))
                _bySubject[key] = list = [];
            list.Add(e);
            if (!_hostsBySubject.TryGetValue((e.Kind, e.Subject), out var set))
                _hostsBySubject[(e.Kind, e.Subject)] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(e.Host);
        }
    }

    public static BaselineSnapshot Empty { get; } = new([], new Dictionary<string, (DateTimeOffset, DateTimeOffset)>());

    public bool IsEmpty => _hosts.Count == 0;

    public int FleetSize => Math.Max(_hosts.Count, 1);

    /// <summary>Known on this host for this access class or a more sensitive one.</summary>
    public bool Knows(string? host, string kind, string subject, AccessClass access) =>
        _bySubject.TryGetValue((host ?? "", kind, subject), out var list) && list.Any(e => e.Access >= access);

    public (long Count, DateTimeOffset? FirstSeen, DateTimeOffset? LastSeen) OnHost(string? host, string kind, string subject) =>
        _bySubject.TryGetValue((host ?? "", kind, subject), out var list)
            ? (list.Sum(e => e.Count), list.Min(e => e.FirstSeen), list.Max(e => e.LastSeen))
            : (0, null, null);

    public int HostsThatSaw(string kind, string subject) =>
        _hostsBySubject.TryGetValue((kind, subject), out var set) ? set.Count : 0;

    /// <summary>How much history the baseline has for a host (zero when it has none).</summary>
    public TimeSpan History(string? host) =>
        _hosts.TryGetValue(host ?? "", out var h) ? h.Last - h.First : TimeSpan.Zero;
}
