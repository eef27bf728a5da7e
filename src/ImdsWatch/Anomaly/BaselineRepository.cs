using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImdsWatch.Detection;
using ImdsWatch.Indicators;
using ImdsWatch.Store;

namespace ImdsWatch.Anomaly;

/// <summary>Reads and writes the baseline in the state store; export and import as JSON for fleets.</summary>
public sealed class BaselineRepository(StateStore store)
{
    /// <summary>Records who reached the metadata service (users by uid, programs by <see cref="ProgramIdentity"/>).</summary>
    public int Learn(IEnumerable<MetadataAccess> accesses)
    {
        var n = 0;
        using var tx = store.Begin();
        foreach (var a in accesses)
        {
            var host = a.Host ?? "";
            var t = a.Timestamp.ToUnixTimeMilliseconds();
            var user = UserSubject(a);
            Upsert(host, BaselineEntry.User, user.Subject, user.Label, a.Access, 1, t, t);
            Upsert(host, BaselineEntry.Program, a.ProgramKey, a.Agent, a.Access, 1, t, t);
            UpsertHost(host, t, t);
            n++;
        }
        tx.Commit();
        return n;
    }

    public static (string Subject, string? Label) UserSubject(MetadataAccess a) =>
        (a.Process.User.Uid?.ToString(CultureInfo.InvariantCulture) ?? "?", a.Process.User.Name);

    /// <summary>
    /// Adds an observation: learned counts add up; imported ones (<paramref name="merge"/>) are merged by the larger
    /// count, so importing the same export twice changes nothing.
    /// </summary>
    private void Upsert(string host, string kind, string subject, string? label, AccessClass access, long count, long first, long last, bool merge = false) =>
        store.Execute($"""
            INSERT INTO observations(host, kind, subject, label, access, count, first_seen, last_seen)
            VALUES($h, $k, $s, $l, $a, $c, $f, $t)
            ON CONFLICT(host, kind, subject, access) DO UPDATE SET
                count = {(merge ? "max(count, excluded.count)" : "count + excluded.count")}, label = coalesce(excluded.label, label),
                first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """, ("$h", host), ("$k", kind), ("$s", subject), ("$l", label), ("$a", access.ToWire()), ("$c", count), ("$f", first), ("$t", last));

    private void UpsertHost(string host, long first, long last) =>
        store.Execute("""
            INSERT INTO hosts(host, first_seen, last_seen) VALUES($h, $f, $t)
            ON CONFLICT(host) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """, ("$h", host), ("$f", first), ("$t", last));

    public List<BaselineEntry> Entries() =>
        store.Query("SELECT host, kind, subject, label, access, count, first_seen, last_seen FROM observations ORDER BY host, kind, subject, access",
            r => new BaselineEntry(r.GetString(0), r.GetString(1), r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
                AccessClassNames.Parse(r.GetString(4)), r.GetInt64(5),
                DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(7))));

    public Dictionary<string, (DateTimeOffset First, DateTimeOffset Last)> Hosts() =>
        store.Query("SELECT host, first_seen, last_seen FROM hosts", r => (r.GetString(0), r.GetInt64(1), r.GetInt64(2)))
            .ToDictionary(x => x.Item1, x => (DateTimeOffset.FromUnixTimeMilliseconds(x.Item2), DateTimeOffset.FromUnixTimeMilliseconds(x.Item3)), StringComparer.Ordinal);

    public BaselineSnapshot Snapshot() => new(Entries(), Hosts());

    /// <summary>Forgets a user (uid or name), a program (exact key or executable), or a whole host.</summary>
    public int Forget(string? host, string? user, string? program)
    {
        if (host is not null && user is null && program is null)
        {
            store.Execute("DELETE FROM hosts WHERE host = $h", ("$h", host));
            return store.Execute("DELETE FROM observations WHERE host = $h", ("$h", host));
        }
        var hostFilter = host is null ? "" : " AND host = $h";
        var n = 0;
        if (user is not null)
            n += store.Execute($"DELETE FROM observations WHERE kind = 'user' AND (subject = $u OR label = $u){hostFilter}", ("$u", user), ("$h", host));
        if (program is not null)
            n += store.Execute($"DELETE FROM observations WHERE kind = 'program' AND (subject = $p OR subject LIKE $prefix){hostFilter}",
                ("$p", program), ("$prefix", program + " %"), ("$h", host));
        return n;
    }

    public string Export()
    {
        var doc = new JsonObject
        {
            ["format"] = "imdswatch-baseline",
            ["version"] = 1,
            ["hosts"] = new JsonArray([.. Hosts().Select(h => new JsonObject { ["host"] = h.Key, ["first_seen"] = h.Value.First, ["last_seen"] = h.Value.Last })]),
            ["observations"] = new JsonArray([.. Entries().Select(e => new JsonObject
            {
                ["host"] = e.Host, ["kind"] = e.Kind, ["subject"] = e.Subject, ["label"] = e.Label, ["access"] = e.Access.ToWire(),
                ["count"] = e.Count, ["first_seen"] = e.FirstSeen, ["last_seen"] = e.LastSeen,
            })]),
        };
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Merges an exported baseline into this one: each count becomes the larger of the two, first/last seen widen.
    /// Importing the same export again changes nothing (a fleet's exports overlap: each host's counts come from it).
    /// </summary>
    public int Import(string json, string origin)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (!root.TryGetProperty("format", out var format) || format.GetString() != "imdswatch-baseline")
            throw new InvalidDataException($"{origin}: not an imdswatch baseline export (no \"format\": \"imdswatch-baseline\")");
        var n = 0;
        using var tx = store.Begin();
        foreach (var h in root.GetProperty("hosts").EnumerateArray())
            UpsertHost(h.GetProperty("host").GetString()!, h.GetProperty("first_seen").GetDateTimeOffset().ToUnixTimeMilliseconds(), h.GetProperty("last_seen").GetDateTimeOffset().ToUnixTimeMilliseconds());
        foreach (var o in root.GetProperty("observations").EnumerateArray())
        {
            var kind = o.GetProperty("kind").GetString();
            if (kind is not (BaselineEntry.User or BaselineEntry.Program))
                throw new InvalidDataException($"{origin}: observation kind '{kind}' is neither user nor program");
            Upsert(o.GetProperty("host").GetString()!, kind, o.GetProperty("subject").GetString()!,
                o.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null,
                AccessClassNames.Parse(o.GetProperty("access").GetString()), o.GetProperty("count").GetInt64(),
                o.GetProperty("first_seen").GetDateTimeOffset().ToUnixTimeMilliseconds(), o.GetProperty("last_seen").GetDateTimeOffset().ToUnixTimeMilliseconds(),
                merge: true);
            n++;
        }
        tx.Commit();
        return n;
    }
}
