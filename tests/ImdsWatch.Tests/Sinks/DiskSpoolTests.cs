using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Tests.Sinks;

public sealed class DiskSpoolTests
{
    [Fact]
    public void A_reopened_spool_resumes_after_the_last_acknowledged_alert()
    {
        using var dir = new TestAlerts.TempDir();
        var spool = new DiskSpool(dir.Path, 1 << 20);
        for (var i = 0; i < 5; i++)
            spool.Append($"id{i}", $"{{\"n\":{i}}}");
        var first = spool.Peek(2);
        Assert.Equal(["id0", "id1"], first.Select(e => e.Id));
        spool.Acknowledge(first);
        Assert.Equal(3, spool.Pending);

        var reopened = new DiskSpool(dir.Path, 1 << 20);
        Assert.Equal(3, reopened.Pending);
        var rest = reopened.Peek(10);
        Assert.Equal(["id2", "id3", "id4"], rest.Select(e => e.Id));
        Assert.Equal("{\"n\":3}", rest[1].Json);
        reopened.Append("id5", "{}");
        reopened.Acknowledge(reopened.Peek(10));
        Assert.Equal(0, reopened.Pending);
        Assert.Empty(new DiskSpool(dir.Path, 1 << 20).Peek(10));
    }

    [Fact]
    public void Spool_files_are_readable_by_their_owner_only()
    {
        if (!OperatingSystem.IsLinux())
            return;
        using var dir = new TestAlerts.TempDir();
        var path = Path.Combine(dir.Path, "spool");
        var spool = new DiskSpool(path, 1 << 20);
        spool.Append("a", "{}");
        spool.Acknowledge(spool.Peek(1));
        spool.Append("b", "{}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        var files = Directory.GetFiles(path);
        Assert.Contains(files, f => f.EndsWith("ack", StringComparison.Ordinal));
        foreach (var f in files)
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f));
    }

    [Fact]
    public void A_full_spool_drops_the_oldest_alerts_and_counts_them()
    {
        using var dir = new TestAlerts.TempDir();
        var warned = new List<long>();
        var spool = new DiskSpool(dir.Path, maxBytes: 4000, segmentBytes: 1000) { OnDropped = (n, _) => warned.Add(n) };
        var payload = "{\"pad\":\"" + new string('x', 80) + "\"}";
        for (var i = 0; i < 200; i++)
            spool.Append($"id{i:D3}", payload);
        Assert.True(spool.Bytes <= 4000, $"spool holds {spool.Bytes} bytes");
        Assert.True(spool.Dropped > 0);
        Assert.Equal(spool.Dropped, warned.Sum());
        Assert.Equal(200, spool.Dropped + spool.Pending);
        var left = spool.Peek(1000);
        Assert.Equal(spool.Pending, left.Count);
        Assert.Equal("id199", left[^1].Id);
        Assert.Equal($"id{200 - left.Count:D3}", left[0].Id); // exactly the oldest went
    }

    [Fact]
    public void A_line_cut_short_by_a_crash_is_skipped_and_the_rest_is_delivered()
    {
        using var dir = new TestAlerts.TempDir();
        var spool = new DiskSpool(dir.Path, 1 << 20);
        spool.Append("id0", "{}");
        var segment = Directory.GetFiles(dir.Path, "*.spool").Single();
        File.AppendAllText(segment, "id1\t{\"cut"); // the writer died mid-line
        var reopened = new DiskSpool(dir.Path, 1 << 20);
        reopened.Append("id2", "{}");
        Assert.Equal(["id0", "id2"], reopened.Peek(10).Select(e => e.Id));
        reopened.Acknowledge(reopened.Peek(10));
        Assert.Empty(reopened.Peek(10));
    }

    [Fact]
    public void Taking_a_batch_reads_that_batch_not_the_backlog_behind_it()
    {
        using var dir = new TestAlerts.TempDir();
        var spool = new DiskSpool(dir.Path, 64 << 20);
        var payload = "{\"pad\":\"" + new string('x', 400) + "\"}";
        for (var i = 0; i < 20_000; i++)
            spool.Append($"id{i:D5}", payload); // about 8 MB: 8 segments
        var line = payload.Length + 9; // id, tab, newline
        for (var round = 0; round < 50; round++)
        {
            var before = spool.BytesRead;
            var batch = spool.Peek(100);
            Assert.Equal($"id{round * 100:D5}", batch[0].Id);
            Assert.Equal(100, batch.Count);
            Assert.True(spool.BytesRead - before <= 100 * line + 64 * 1024, $"read {spool.BytesRead - before} bytes for a batch of {100 * line}");
            spool.Acknowledge(batch);
        }
        Assert.Equal(15_000, spool.Pending);
        Assert.Equal(15_000L * line, spool.PendingBytes);
    }

    [Fact]
    public void A_batch_stops_at_the_byte_limit_but_always_holds_one_alert()
    {
        using var dir = new TestAlerts.TempDir();
        var spool = new DiskSpool(dir.Path, 16 << 20);
        var big = "{\"pad\":\"" + new string('y', 200_000) + "\"}"; // longer than a read chunk
        spool.Append("big", big);
        for (var i = 0; i < 10; i++)
            spool.Append($"s{i}", "{\"n\":" + i + "}");
        var first = spool.Peek(100, maxBytes: 1000);
        Assert.Equal("big", Assert.Single(first).Id);
        Assert.Equal(big, first[0].Json);
        spool.Acknowledge(first);
        var small = spool.Peek(100, maxBytes: 3 * 12);
        Assert.Equal(["s0", "s1", "s2"], small.Select(e => e.Id));
        spool.Acknowledge(small);
        Assert.Equal(["s3", "s4", "s5", "s6", "s7", "s8", "s9"], new DiskSpool(dir.Path, 16 << 20).Peek(100).Select(e => e.Id));
    }
}
