using ImdsWatch.Sources.Input;
using ImdsWatch.Store;

namespace ImdsWatch.Runner;

/// <summary>
/// Plans what a run reads of each live log: from the last checkpoint at or before the start of the look-back, so
/// every window is evaluated with its full context, then every file written after it. The checkpointed file is
/// found by the fingerprint of its first bytes and its inode (as Filebeat and Vector do), wherever rotation put
/// it: renamed (audit.log.1, audit.log-20261130), compressed (audit.log.1.gz), copied by copytruncate. What cannot
/// be found is reported as lost, never passed over in silence.
/// </summary>
public sealed class IncrementalReader(StateStore store)
{
    public List<Segment> Plan(string live, DateTimeOffset readFrom, List<string> warnings)
    {
        if (Refusal(live) is { } refused)
        {
            warnings.Add(refused);
            return [];
        }
        var checkpoints = Checkpoints(live);
        var files = RotatedFiles.Of(live);
        if (File.Exists(live))
            files.Add(live);
        if (checkpoints.Count == 0)
        {
            // The first run reads the live file; older rotations are history it does not alert on.
            if (!File.Exists(live))
            {
                warnings.Add($"{live}: not found; nothing read");
                return [];
            }
            return [Segment(live, 0, 0)];
        }

        var newest = checkpoints[^1];
        // Read from before the look-back (with its context): from the checkpoint there, else the oldest file's start.
        var start = checkpoints.LastOrDefault(c => c.RecordTime <= readFrom) ?? checkpoints[0] with { Offset = 0, Line = 0 };
        var at = IndexOf(files, start);
        if (at < 0 && start != newest)
        {
            start = newest; // the context before the look-back is gone (deleted by rotation); what is new is not
            at = IndexOf(files, start);
        }
        if (at < 0)
            return Lost(live, files, newest, warnings);

        var first = files[at];
        var offset = start.Offset;
        if (!InputSource.IsGzipFile(first) && new FileInfo(first).Length < offset)
        {
            warnings.Add($"{first}: shorter than at the last run ({new FileInfo(first).Length} < {offset} bytes): truncated in place and rewritten; reading it from the start");
            offset = 0;
        }
        var plan = new List<Segment> { Segment(first, offset, offset == 0 ? 0 : start.Line) };
        plan.AddRange(files.Skip(at + 1).Select(f => Segment(f, 0, 0)));
        return plan;
    }

    /// <summary>
    /// Why a path is no log a run can follow, or null: /dev/zero never ends and a FIFO blocks until a writer comes
    /// (and neither can be checkpointed).
    /// </summary>
    public static string? Refusal(string path) =>
        FileKind.NotRegular(path) is { } kind ? $"{path}: {kind}, not a log file; refused, nothing read" : null;

    /// <summary>
    /// The checkpointed file is gone: deleted by rotation (auditd's num_logs, logrotate's rotate N) before this run,
    /// or truncated in place with no copy kept. What it held past the checkpoint is lost; say so, and read every
    /// file written since the checkpoint was saved.
    /// </summary>
    private static List<Segment> Lost(string live, List<string> files, Checkpoint newest, List<string> warnings)
    {
        var since = files.Where(f => File.GetLastWriteTimeUtc(f) >= newest.SavedAt.UtcDateTime.AddSeconds(-1) || f == live).ToList();
        if (since.Count == 0)
            since = files;
        warnings.Add($"{live}: the file read up to byte {newest.Offset} at the last run (inode {newest.Inode}) is gone: deleted by rotation "
            + "(auditd num_logs, logrotate rotate) or truncated in place without a copy. What was written to it after the last run is lost; "
            + $"reading the {since.Count} file(s) written since");
        return since.Select(f => Segment(f, 0, 0)).ToList();
    }

    /// <summary>Where the checkpoint's file is among <paramref name="files"/> (oldest first), or -1.</summary>
    private static int IndexOf(List<string> files, Checkpoint c)
    {
        if (c.Fingerprint is not { } print)
            return files.FindLastIndex(f => !InputSource.IsGzipFile(f) && Identity(f) == c.Inode);
        if (print.Length == 0)
            return files.FindLastIndex(f => Identity(f) == c.Inode);
        // The same content, on the same inode if there is one (a copy left beside its original matches too).
        var matches = Enumerable.Range(0, files.Count).Where(i => print.Matches(files[i])).ToList();
        if (matches.Count == 0)
            return -1;
        return matches.Cast<int?>().LastOrDefault(i => Identity(files[i!.Value]) == c.Inode) ?? matches[^1];
    }

    private static long Identity(string file)
    {
        try
        {
            return FileIdentity.Inode(file);
        }
        catch (IOException)
        {
            return -1; // gone since it was listed
        }
    }

    private static Segment Segment(string path, long offset, long line) =>
        new(new InputSource(path, path) { Offset = offset, FirstLineNumber = line + 1 }, Identity(path), FileFingerprint.Of(path));

    public void Save(Checkpoint c, DateTimeOffset savedAt, TimeSpan keep)
    {
        store.Execute("""
            INSERT OR REPLACE INTO checkpoints(path, inode, offset, line, record_time, saved_at, fingerprint, fingerprint_length)
            VALUES($p, $i, $o, $l, $t, $s, $f, $fl)
            """, ("$p", c.Path), ("$i", c.Inode), ("$o", c.Offset), ("$l", c.Line),
            ("$t", c.RecordTime.ToUnixTimeMilliseconds()), ("$s", savedAt.ToUnixTimeMilliseconds()),
            ("$f", c.Fingerprint?.Hash), ("$fl", c.Fingerprint?.Length));
        // Keep the newest checkpoint older than the look-back, and everything after it.
        var old = Checkpoints(c.Path).Where(x => x.RecordTime < savedAt - keep).ToList();
        foreach (var x in old.Take(Math.Max(0, old.Count - 1)))
            store.Execute("DELETE FROM checkpoints WHERE path = $p AND inode = $i AND offset = $o",
                ("$p", x.Path), ("$i", x.Inode), ("$o", x.Offset));
    }

    public List<Checkpoint> Checkpoints(string path) =>
        store.Query("""
            SELECT path, inode, offset, line, record_time, saved_at, fingerprint, fingerprint_length FROM checkpoints
            WHERE path = $p ORDER BY record_time, saved_at, offset
            """,
            r => new Checkpoint(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)))
            {
                SavedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                Fingerprint = r.IsDBNull(6) ? null : new FileFingerprint(r.GetString(6), r.GetInt32(7)),
            },
            ("$p", path));
}
