using ImdsWatch.Alerts;

namespace ImdsWatch.Store;

/// <summary>Alerts raised by the runner, by stable id: a second raise of the same id is a no-op.</summary>
public sealed class AlertRepository(StateStore store)
{
    public bool Exists(string id) =>
        store.Query("SELECT 1 FROM alerts WHERE id = $id", _ => true, ("$id", id)).Count > 0;

    /// <summary>Stores the alert; false when an alert with its id was raised before.</summary>
    public bool TryAdd(Alert a, DateTimeOffset raisedAt) =>
        store.Execute("""
            INSERT OR IGNORE INTO alerts(id, time, host, alert_type, severity, risk, summary, json, raised_at)
            VALUES($id, $t, $h, $type, $sev, $risk, $sum, $json, $raised)
            """, ("$id", a.Id), ("$t", a.Timestamp.ToUnixTimeMilliseconds()), ("$h", a.Host), ("$type", a.AlertType.ToString()),
            ("$sev", a.Severity.ToString().ToLowerInvariant()), ("$risk", a.RiskScore), ("$sum", a.Summary),
            ("$json", AlertRecord.Serialize(a)), ("$raised", raisedAt.ToUnixTimeMilliseconds())) == 1;

    public List<StoredAlert> List(bool includeAcknowledged, int limit = 200, string? host = null) =>
        store.Query($"""
            SELECT id, time, host, alert_type, severity, risk, summary, json, raised_at, acked_at, ack_note FROM alerts
            WHERE ($all OR acked_at IS NULL) AND ($host IS NULL OR host = $host) ORDER BY time DESC LIMIT $limit
            """, Read, ("$all", includeAcknowledged), ("$host", host), ("$limit", limit));

    /// <summary>An alert by id or unique id prefix; null when none or ambiguous (<paramref name="matches"/> says which).</summary>
    public StoredAlert? Find(string idOrPrefix, out int matches)
    {
        var found = store.Query("""
            SELECT id, time, host, alert_type, severity, risk, summary, json, raised_at, acked_at, ack_note FROM alerts
            WHERE id = $id OR id LIKE $prefix LIMIT 3
            """, Read, ("$id", idOrPrefix), ("$prefix", idOrPrefix + "%"));
        matches = found.Count;
        return found.FirstOrDefault(a => a.Id == idOrPrefix) ?? (found.Count == 1 ? found[0] : null);
    }

    public List<StoredAlert> Near(string? host, DateTimeOffset time, TimeSpan window) =>
        store.Query("""
            SELECT id, time, host, alert_type, severity, risk, summary, json, raised_at, acked_at, ack_note FROM alerts
            WHERE coalesce(host, '') = coalesce($host, '') AND time BETWEEN $from AND $to ORDER BY time
            """, Read, ("$host", host), ("$from", (time - window).ToUnixTimeMilliseconds()), ("$to", (time + window).ToUnixTimeMilliseconds()));

    /// <summary>How many alerts <see cref="List"/> would show without a limit.</summary>
    public int Count(bool includeAcknowledged, string? host = null) =>
        store.Query("SELECT count(*) FROM alerts WHERE ($all OR acked_at IS NULL) AND ($host IS NULL OR host = $host)",
            r => r.GetInt32(0), ("$all", includeAcknowledged), ("$host", host))[0];

    /// <summary>Acknowledges the alert, keeping every acknowledgement (who, when, note); a later one without a note keeps the note.</summary>
    public bool Acknowledge(string id, string? note, DateTimeOffset at, string? who)
    {
        using var tx = store.Begin();
        var updated = store.Execute("UPDATE alerts SET acked_at = $at, ack_note = coalesce($note, ack_note) WHERE id = $id",
            ("$id", id), ("$at", at.ToUnixTimeMilliseconds()), ("$note", note)) == 1;
        if (updated)
            store.Execute("INSERT INTO acks(id, at, who, note) VALUES($id, $at, $who, $note)", ("$id", id), ("$at", at.ToUnixTimeMilliseconds()), ("$who", who), ("$note", note));
        tx.Commit();
        return updated;
    }

    /// <summary>Every acknowledgement of an alert, oldest first.</summary>
    public List<Acknowledgement> History(string id) =>
        store.Query("SELECT at, who, note FROM acks WHERE id = $id ORDER BY at, rowid",
            r => new Acknowledgement(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2)),
            ("$id", id));

    private static StoredAlert Read(Microsoft.Data.Sqlite.SqliteDataReader r) => new(
        r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.IsDBNull(2) ? null : r.GetString(2),
        r.GetString(3), r.GetString(4), r.GetInt32(5), r.GetString(6), r.GetString(7),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)),
        r.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)), r.IsDBNull(10) ? null : r.GetString(10));
}

/// <summary>One acknowledgement of an alert: when, by whom (the login name), and why.</summary>
public sealed record Acknowledgement(DateTimeOffset At, string? Who, string? Note);

public sealed record StoredAlert(string Id, DateTimeOffset Time, string? Host, string AlertType, string Severity, int Risk,
    string Summary, string Json, DateTimeOffset RaisedAt, DateTimeOffset? AcknowledgedAt, string? AcknowledgeNote)
{
    /// <summary>The alert as it was raised; null for one stored by an imdswatch whose record this one cannot read.</summary>
    public Alert? Alert => AlertRecord.Deserialize(Json);
}
