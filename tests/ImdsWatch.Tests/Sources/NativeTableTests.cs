using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Tests.Sources;

/// <summary>The selector's tables outside the GC heap: zeroed, bounds-checked, small and huge-page sized alike.</summary>
public sealed class NativeTableTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(3 << 20)] // 24 MB of longs: the huge-page mapping
    public void A_new_table_is_zeroed_and_keeps_what_is_written(int length)
    {
        using var table = new NativeTable<long>(length);
        Assert.Equal(length, table.Length);
        Assert.True(table.AsSpan().IndexOfAnyExcept(0L) < 0);
        for (var i = 0; i < length; i += 997)
            table[i] = i + 1;
        table[length - 1] = -1;
        for (var i = 0; i < length - 1; i += 997)
            Assert.Equal(i + 1, table[i]);
        Assert.Equal(-1, table[length - 1]);
        table.Clear();
        Assert.True(table.AsSpan().IndexOfAnyExcept(0L) < 0);
    }

    [Fact]
    public void An_index_outside_the_table_throws()
    {
        using var table = new NativeTable<int>(16);
        Assert.Throws<ArgumentOutOfRangeException>(() => table[16]);
        Assert.Throws<ArgumentOutOfRangeException>(() => table[-1]);
    }
}
