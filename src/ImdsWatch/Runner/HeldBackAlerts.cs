using ImdsWatch.Alerts;
using ImdsWatch.Store;

namespace ImdsWatch.Runner;

/// <summary>
/// Alerts a run found but did not raise (over --max-alerts), kept in the state until a later run raises them: they
/// leave its look-back, not the queue. At most <see cref="RunOptions.MaxHeldBack"/>; past that the newest are
/// dropped, and counted in the run's warnings.
/// </summary>
public sealed class HeldBackAlerts(StateStore store)
{
    public List<Alert> All() =>
        [.. store.Query("SELECT json FROM held_back ORDER BY time, id", r => AlertRecord.Deserialize(r.GetString(0))).OfType<Alert>()];

    /// <summary>Replaces the queue with <paramref name="alerts"/> (inside the caller's transaction).</summary>
    public void Replace(IEnumerable<Alert> alerts, DateTimeOffset now)
    {
        store.Execute("DELETE FROM held_back");
        foreach (var a in alerts)
        {
            store.Execute("INSERT OR REPLACE INTO held_back(id, time, json, held_at) VALUES($id, $t, $j, $h)",
                ("$id", a.Id), ("$t", a.Timestamp.ToUnixTimeMilliseconds()), ("$j", AlertRecord.Serialize(a)), ("$h", now.ToUnixTimeMilliseconds()));
        }
    }
}
