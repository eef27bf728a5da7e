using ImdsWatch.Events;

namespace ImdsWatch.Store;

/// <summary>Login, session and sudo records, kept so an investigation can show a user's activity around an alert.</summary>
public sealed class SessionRepository(StateStore store)
{
    public void Add(IEnumerable<SessionEvent> sessions)
    {
        using var tx = store.Begin();
        foreach (var s in sessions)
        {
            store.Execute("""
                INSERT OR IGNORE INTO sessions(host, time, kind, account, uid, auid, address, terminal, exe, command, result, file, line)
                VALUES($h, $t, $k, $a, $uid, $auid, $addr, $term, $exe, $cmd, $res, $file, $line)
                """, ("$h", s.Host ?? ""), ("$t", s.Timestamp.ToUnixTimeMilliseconds()), ("$k", s.Kind), ("$a", s.Account),
                ("$uid", s.Process.User.Uid), ("$auid", s.Process.User.AuditUid), ("$addr", s.Address), ("$term", s.Terminal),
                ("$exe", s.Process.Executable), ("$cmd", s.Command), ("$res", s.Result), ("$file", s.Evidence.File), ("$line", s.Evidence.Line));
        }
        tx.Commit();
    }

    public List<StoredSession> Around(string? host, DateTimeOffset time, TimeSpan before, TimeSpan after) =>
        store.Query("""
            SELECT time, kind, account, uid, auid, address, terminal, exe, command, result, file, line FROM sessions
            WHERE host = $h AND time BETWEEN $from AND $to ORDER BY time
            """, r => new StoredSession(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)), r.GetString(1),
                r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3), r.IsDBNull(4) ? null : r.GetInt64(4),
                r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
                r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9), r.GetString(10), r.GetInt64(11)),
            ("$h", host ?? ""), ("$from", (time - before).ToUnixTimeMilliseconds()), ("$to", (time + after).ToUnixTimeMilliseconds()));
}

public sealed record StoredSession(DateTimeOffset Time, string Kind, string? Account, long? Uid, long? AuditUid, string? Address,
    string? Terminal, string? Executable, string? Command, string? Result, string File, long Line);
