using ImdsWatch.Sources.Input;
using ImdsWatch.Store;

namespace ImdsWatch.Runner;

/// <summary>
/// Plans what a run reads of each live log: from the last checkpoint at or before the start of the look-back, so
/// every window is evaluated with its full context. Follows rotation by inode (audit.log → audit.log.1 …) and
/// restarts at the beginning of a file that was truncated.
/// </summary>
public sealed class IncrementalReader(StateStore store)
{
    public const int MaxRotations = 20;

    public List<InputSource> Plan(string path, DateTimeOffset readFrom, List<string> warnings)
    {
        if (!File.Exists(path))
        {
            warnings.Add($"{path}: not found; nothing read");
            return [];
        }
        var inode = FileIdentity.Inode(path);
        var size = new FileInfo(path).Length;
        var checkpoints = Checkpoints(path);
        if (checkpoints.Count == 0)
            return [Whole(path)];

        var newest = checkpoints[^1];
        if (newest.Inode == inode && size < newest.Offset)
        {
            warnings.Add($"{path}: shorter than at the last run ({size} < {newest.Offset} bytes): truncated, reading it from the start");
            store.Execute("DELETE FROM checkpoints WHERE path = $p", ("$p", path));
            return [Whole(path)];
        }
        var start = checkpoints.LastOrDefault(c => c.RecordTime <= readFrom) ?? checkpoints[0] with { Offset = 0, Line = 0 };
        if (start.Inode == inode)
            return [From(path, start)];

        // Rotated since: find the file that now has the checkpoint's inode, read its rest and every newer one.
        var rotated = Enumerable.Range(1, MaxRotations).Select(n => $"{path}.{n}").Where(File.Exists).ToList();
        var at = rotated.FindIndex(f => FileIdentity.Inode(f) == start.Inode);
        if (at < 0)
        {
            warnings.Add($"{path}: rotated, and the file it was rotated to (inode {start.Inode}) is gone: reading the current file from the start");
            return [Whole(path)];
        }
        var segments = new List<InputSource> { new FileInfo(rotated[at]).Length >= start.Offset ? From(rotated[at], start) : Whole(rotated[at]) };
        for (var i = at - 1; i >= 0; i--)
            segments.Add(Whole(rotated[i]));
        segments.Add(Whole(path));
        return segments;
    }

    public void Save(Checkpoint c, DateTimeOffset savedAt, TimeSpan keep)
    {
        store.Execute("""
            INSERT OR REPLACE INTO checkpoints(path, inode, offset, line, record_time, saved_at) VALUES($p, $i, $o, $l, $t, $s)
            """, ("$p", c.Path), ("$i", c.Inode), ("$o", c.Offset), ("$l", c.Line),
            ("$t", c.RecordTime.ToUnixTimeMilliseconds()), ("$s", savedAt.ToUnixTimeMilliseconds()));
        // Keep the newest checkpoint older than the look-back, and everything after it.
        var old = Checkpoints(c.Path).Where(x => x.RecordTime < savedAt - keep).ToList();
        foreach (var x in old.Take(Math.Max(0, old.Count - 1)))
            store.Execute("DELETE FROM checkpoints WHERE path = $p AND inode = $i AND offset = $o",
                ("$p", x.Path), ("$i", x.Inode), ("$o", x.Offset));
    }

    public List<Checkpoint> Checkpoints(string path) =>
        store.Query("SELECT path, inode, offset, line, record_time FROM checkpoints WHERE path = $p ORDER BY record_time, offset",
            r => new Checkpoint(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4))),
            ("$p", path));

    private static InputSource Whole(string path) => new(path, path);

    private static InputSource From(string path, Checkpoint c) => new(path, path) { Offset = c.Offset, FirstLineNumber = c.Line + 1 };
}
