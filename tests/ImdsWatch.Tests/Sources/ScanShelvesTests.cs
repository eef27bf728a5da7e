using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>What a scan keeps from one file to the next: pass one's buffers, pass two's batches, the selector's tables.</summary>
[Collection(nameof(ScanHeapTests))] // a ScanHeap may take the process's no-GC region
public sealed class ScanShelvesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-shelves-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_kept_table_is_handed_out_again_zeroed()
    {
        using var shelf = new TableShelf(capacity: 1);
        var table = shelf.Take<long>(1 << 18); // 2 MB: a huge-page mapping
        table.AsSpan().Fill(7);
        shelf.Put(table);
        Assert.Equal(1, shelf.Count);
        Assert.Same(table, shelf.Take<long>(1 << 18));
        Assert.True(table.AsSpan().IndexOfAnyExcept(0L) < 0);
        Assert.NotSame(table, shelf.Take<long>(1 << 17)); // another length is another table
        Assert.Equal(0, shelf.Count);
    }

    [Fact]
    public void A_full_shelf_keeps_no_more_than_its_capacity()
    {
        using var shelf = new TableShelf(capacity: 1);
        shelf.Put(new NativeTable<int>(64));
        shelf.Put(new NativeTable<int>(64)); // freed, not kept
        Assert.Equal(1, shelf.Count);
        shelf.Take<int>(64);
        Assert.Equal(0, shelf.Count);
    }

    [Fact]
    public void Arrays_are_kept_by_exact_length_up_to_the_capacity()
    {
        var shelf = new ArrayShelf<byte>(capacity: 2);
        var a = shelf.Take(100);
        var b = shelf.Take(100);
        var c = shelf.Take(50);
        shelf.Put(a);
        shelf.Put(b);
        shelf.Put(c); // over capacity: dropped
        Assert.Equal(2, shelf.Count);
        Assert.NotSame(c, shelf.Take(50));
        var again = shelf.Take(100);
        Assert.True(ReferenceEquals(again, a) || ReferenceEquals(again, b));
    }

    /// <summary>The sample cut into files of ~64 KB at line ends, named as auditd rotates them (audit.log the newest).</summary>
    private List<InputSource> Rotated()
    {
        var lines = File.ReadAllLines(Path.Combine(Repo.Samples, "audit-enriched.log"));
        var parts = new List<List<string>> { new() };
        var size = 0;
        foreach (var line in lines)
        {
            if (size > 64 << 10)
            {
                parts.Add([]);
                size = 0;
            }
            parts[^1].Add(line);
            size += line.Length + 1;
        }
        for (var i = 0; i < parts.Count; i++)
        {
            var age = parts.Count - 1 - i;
            File.WriteAllLines(Path.Combine(_dir, age == 0 ? "audit.log" : $"audit.log.{age}"), parts[i]);
        }
        var sources = InputResolver.Resolve([_dir], out var errors, out _, out _);
        Assert.Empty(errors);
        Assert.Equal(parts.Count, sources.Count);
        return [.. sources];
    }

    private static string Scan(IReadOnlyList<InputSource> sources, ScanHeap? heap)
    {
        // Blocks of 4 KB: several a file, and pass two on its thread, so that every shelf is used.
        var result = new DetectionPipeline(DetectionRules.Default) { Heap = heap, PrefilterBlockSize = 4096 }.Scan(sources);
        return $"events {result.Events}, execs {result.Detection.Execs}, issues {result.IssueCount}\n"
            + string.Join('\n', result.Alerts.Select(NdjsonAlertWriter.ToJson));
    }

    [Fact]
    public void Rotated_files_read_with_kept_buffers_and_tables_give_what_fresh_ones_give()
    {
        var sources = Rotated();
        Assert.True(sources.Count >= 10, $"{sources.Count} files");
        var fresh = Scan(sources, heap: null);
        using var heap = new ScanHeap(worthFrom: long.MaxValue); // the shelves without the no-GC region
        var kept = Scan(sources, heap);
        Assert.Equal(fresh, kept);
        Assert.Contains("\"alert\"", fresh, StringComparison.Ordinal);
        // Each file's selector gave its tables back for the next one, and the workers their buffers.
        Assert.InRange(heap.SelectorTables.Count, 3, 8);
        Assert.InRange(heap.BlockBuffers.Count, 1, 16);
        Assert.InRange(heap.PassTwoBatches.Count, 1, 12);
    }

    [Fact]
    public void A_set_of_rotated_logs_takes_the_region_with_its_first_file()
    {
        if (!HugePageMemory.IsAvailable)
            return;
        var sources = Rotated();
        var total = sources.Sum(s => s.Length ?? 0);
        using (var heap = new ScanHeap(worthFrom: total))
        {
            heap.Expect(sources);
            heap.WillReadFast(sources[0].Length!.Value);
            Assert.True(heap.IsActive);
        }

        // Other formats are read by the full parser: they do not count.
        var syslog = Path.Combine(Repo.Samples, "syslog", "syslog");
        using (var other = new ScanHeap(worthFrom: 2))
        {
            other.Expect([new InputSource(syslog, syslog)]);
            other.WillReadFast(1);
            Assert.False(other.IsActive);
        }

        // A .gz is unpacked and read the fast way: it counts.
        var gzip = Path.Combine(Repo.Samples, "audit-raw.log.gz");
        using var unpacked = new ScanHeap(worthFrom: 2);
        unpacked.Expect([new InputSource(gzip, gzip)]);
        unpacked.WillReadFast(1);
        Assert.True(unpacked.IsActive);
    }
}
