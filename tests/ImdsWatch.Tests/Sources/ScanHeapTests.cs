using System.Runtime;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>The no-GC region is the process's: these tests run alone, not beside others that allocate.</summary>
[CollectionDefinition(nameof(ScanHeapTests), DisableParallelization = true)]
public sealed class ScanHeapCollection;

[Collection(nameof(ScanHeapTests))]
public sealed class ScanHeapTests
{
    private static readonly string[] Maps =
    [
        "00400000-00c00000 r-xp 00000000 08:01 1234     /usr/bin/imdswatch",
        "01000000-01100000 rw-p 00000000 00:00 0        [heap]",
        "7f0000000000-7f0000400000 rw-p 00000000 00:00 0 ",
        "7f0000400000-7f0010000000 ---p 00000000 00:00 0",
        "7f0010000000-7f0010800000 rw-p 00000000 00:00 0",
        "7f0010800000-7f0100000000 ---p 00000000 00:00 0",
        "7f0100000000-7f0100001000 r--p 00000000 08:01 99   /usr/lib/libc.so.6",
        "7f0200000000-7f0200800000 rw-p 00000000 00:00 0",
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0    [stack]",
    ];

    [Fact]
    public void The_run_of_anonymous_mappings_around_an_address_is_the_whole_reservation()
    {
        Assert.Equal((0x7f0000000000UL, 0x7f0100000000UL), HugePageMemory.AnonymousRunAround(Maps, 0x7f0010000100));
        Assert.Equal((0x7f0000000000UL, 0x7f0100000000UL), HugePageMemory.AnonymousRunAround(Maps, 0x7f0000000000));
        Assert.Equal((0x7f0200000000UL, 0x7f0200800000UL), HugePageMemory.AnonymousRunAround(Maps, 0x7f0200000010)); // not joined across the gap
    }

    [Theory]
    [InlineData(0x00500000UL)] // the executable
    [InlineData(0x01000010UL)] // [heap]
    [InlineData(0x7ffd00000010UL)] // [stack]
    [InlineData(0x7f0100000000UL)] // a library
    [InlineData(0x10UL)] // nothing mapped
    public void Named_mappings_and_unmapped_addresses_are_not_advised(ulong address) =>
        Assert.Null(HugePageMemory.AnonymousRunAround(Maps, address));

    [Fact]
    public void A_malformed_maps_line_is_skipped() =>
        Assert.Equal((0x7f0200000000UL, 0x7f0200800000UL), HugePageMemory.AnonymousRunAround(["garbage", "", "7f0200000000-7f0200800000 rw-p 00000000 00:00 0"], 0x7f0200000010));

    [Theory]
    [InlineData("always [madvise] never\n", "madvise")]
    [InlineData("[always] madvise never", "always")]
    [InlineData("always madvise [never]", "never")]
    [InlineData("garbage", null)]
    [InlineData("", null)]
    public void The_selected_huge_page_mode_is_the_bracketed_one(string setting, string? mode) =>
        Assert.Equal(mode, HugePageMemory.SelectedMode(setting));

    private static ScanHeap Reading(long bytes)
    {
        var heap = new ScanHeap();
        heap.WillReadFast(bytes);
        return heap;
    }

    [Fact]
    public void A_large_scan_runs_without_collections_until_disposed()
    {
        if (!HugePageMemory.IsAvailable)
        {
            using var none = Reading(1L << 30);
            Assert.False(none.IsActive); // no huge pages, no region
            return;
        }
        var before = GC.CollectionCount(0);
        using (var heap = Reading(1L << 30))
        {
            Assert.True(heap.IsActive);
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            var start = GC.CollectionCount(0); // starting the region collects once
            for (var i = 0; i < 1000; i++)
                GC.KeepAlive(new byte[1000]);
            GC.KeepAlive(new byte[4 << 20]); // large objects have their own budget
            Assert.Equal(start, GC.CollectionCount(0));
            Assert.True(heap.IsActive);
            Assert.True(heap.AdvisedBytes >= ScanHeap.Budget, $"advised {heap.AdvisedBytes} bytes");
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.True(GC.CollectionCount(0) >= before);
    }

    [Fact]
    public void Allocating_past_the_budget_ends_the_region_and_disposing_is_quiet()
    {
        if (!HugePageMemory.IsAvailable)
            return;
        using (var heap = Reading(1L << 30))
        {
            Assert.True(heap.IsActive);
            var kept = new List<byte[]>();
            for (long n = 0; n < 2 * ScanHeap.Budget; n += 64 << 10)
                kept.Add(new byte[64 << 10]);
            Assert.False(heap.IsActive);
            heap.WillReadFast(1L << 30); // the next file does not take it again
            Assert.False(heap.IsActive);
            GC.KeepAlive(kept);
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void Small_files_count_together_and_a_second_heap_changes_nothing()
    {
        using (var small = Reading(1 << 20))
            Assert.False(small.IsActive);
        if (!HugePageMemory.IsAvailable)
            return;
        using var first = new ScanHeap();
        for (var file = 0; file < 7; file++)
            first.WillReadFast(8 << 20); // auditd rotates at 8 MB: seven files are not yet worth it
        Assert.False(first.IsActive);
        first.WillReadFast(8 << 20);
        Assert.True(first.IsActive);
        using var second = Reading(1L << 30);
        Assert.False(second.IsActive);
        second.Dispose();
        Assert.True(first.IsActive);
    }

    [Theory]
    [InlineData("audit-enriched.log", true, true)]
    [InlineData("audit-enriched.log", false, false)] // --no-prefilter: the full parser
    [InlineData("audit-raw.log.gz", true, true)] // gzip: unpacked, then read the fast way
    [InlineData("syslog/syslog", true, false)]
    public void The_scanner_sets_the_heap_aside_only_for_what_it_reads_the_fast_way(string sample, bool prefilter, bool taken)
    {
        if (!HugePageMemory.IsAvailable)
            return;
        var path = Path.Combine(Repo.Samples, sample);
        using var heap = new ScanHeap(worthFrom: 1);
        new DetectionPipeline(DetectionRules.Default) { UsePrefilter = prefilter, Heap = heap }.Scan([new InputSource(path, path)]);
        Assert.Equal(taken, heap.IsActive);
    }
}
