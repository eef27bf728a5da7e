using ImdsWatch.Store;

namespace ImdsWatch.Runner;

/// <summary>When the last run over each live log completed (its alerts written and stored): where a late run catches up from.</summary>
public sealed class RunHistory(StateStore store)
{
    /// <summary>The oldest last completed run over <paramref name="paths"/>; null when one of them was never run.</summary>
    public DateTimeOffset? LastRun(IReadOnlyList<string> paths)
    {
        DateTimeOffset? oldest = null;
        foreach (var path in paths)
        {
            var found = store.Query("SELECT last_run FROM runs WHERE path = $p", r => r.GetInt64(0), ("$p", path));
            if (found.Count == 0)
                return null;
            var last = DateTimeOffset.FromUnixTimeMilliseconds(found[0]);
            if (oldest is null || last < oldest)
                oldest = last;
        }
        return oldest;
    }

    public void Completed(IReadOnlyList<string> paths, DateTimeOffset now)
    {
        foreach (var path in paths)
            store.Execute("INSERT OR REPLACE INTO runs(path, last_run) VALUES($p, $t)", ("$p", path), ("$t", now.ToUnixTimeMilliseconds()));
    }
}
