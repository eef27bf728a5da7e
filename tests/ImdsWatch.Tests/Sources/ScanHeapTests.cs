using System.Runtime;
using ImdsWatch.Scanning;
using ImdsWatch.Scanning.Prefilter;

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

    [Fact]
    public void A_large_scan_runs_without_collections_until_disposed()
    {
        if (!HugePageMemory.IsAvailable)
        {
            using var none = ScanHeap.For(1L << 30);
            Assert.False(none.IsActive); // no huge pages, no region
            return;
        }
        var before = GC.CollectionCount(0);
        using (var heap = ScanHeap.For(1L << 30))
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
        using (var heap = ScanHeap.For(1L << 30))
        {
            Assert.True(heap.IsActive);
            var kept = new List<byte[]>();
            for (long n = 0; n < 2 * ScanHeap.Budget; n += 64 << 10)
                kept.Add(new byte[64 << 10]);
            Assert.False(heap.IsActive);
            GC.KeepAlive(kept);
        }
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void A_small_scan_or_a_second_reservation_changes_nothing()
    {
        using (var small = ScanHeap.For(1 << 20))
            Assert.False(small.IsActive);
        if (!HugePageMemory.IsAvailable)
            return;
        using var first = ScanHeap.For(1L << 30);
        using var second = ScanHeap.For(1L << 30);
        Assert.True(first.IsActive);
        Assert.False(second.IsActive);
        second.Dispose();
        Assert.True(first.IsActive);
    }
}
