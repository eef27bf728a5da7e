using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class RecentlyCompletedTests
{
    /// <summary>What the assembler used before: a set, and a queue that forgets a key 16,384 completions later.</summary>
    private sealed class SetThatForgets
    {
        private readonly HashSet<(string? Node, ulong Serial)> _set = [];
        private readonly Queue<((string? Node, ulong Serial) Key, long Completion)> _order = new();
        private long _completions;

        public void Add(string? node, ulong serial)
        {
            _completions++;
            if (_set.Add((node, serial)))
                _order.Enqueue(((node, serial), _completions));
            Forget();
        }

        public void CountSkipped()
        {
            _completions++;
            Forget();
        }

        public bool Contains(string? node, ulong serial) => _set.Contains((node, serial));

        public void Clear()
        {
            _set.Clear();
            _order.Clear();
        }

        private void Forget()
        {
            while (_order.TryPeek(out var oldest) && oldest.Completion <= _completions - RecentlyCompleted.Window)
                _set.Remove(_order.Dequeue().Key);
        }
    }

    [Theory]
    [InlineData(1, 40_000UL)] // serials that climb, with repeats and jumps back
    [InlineData(2, 300UL)] // few serials: the same key completed again and again, also exactly a window later
    [InlineData(3, ulong.MaxValue)] // serials anywhere, beyond 32 bits
    [InlineData(4, 70_000UL)]
    public void Remembers_and_forgets_exactly_as_a_set_that_forgets_after_a_window(int seed, ulong range)
    {
        var random = new Random(seed);
        var table = new RecentlyCompleted();
        var oracle = new SetThatForgets();
        // Equal node names in different string instances must count as one node, as they did in the set.
        string?[] nodes = [null, "web-1", new string("web-1".AsSpan()), "db", ""];
        ulong climbing = 0;
        for (var step = 0; step < 200_000; step++)
        {
            var node = nodes[random.Next(nodes.Length)];
            var serial = random.Next(4) switch
            {
                0 => (ulong)random.NextInt64() % range,
                _ => climbing++ % range,
            };
            switch (random.Next(100))
            {
                case < 60:
                    table.Add(node, serial);
                    oracle.Add(node, serial);
                    break;
                case < 65:
                    table.CountSkipped();
                    oracle.CountSkipped();
                    break;
                case 65 when random.Next(200) == 0:
                    table.Clear();
                    oracle.Clear();
                    break;
                default:
                    Assert.Equal(oracle.Contains(node, serial), table.Contains(node, serial));
                    break;
            }
        }
    }

    [Fact]
    public void A_key_completed_again_exactly_a_window_later_is_forgotten_as_the_set_forgot_it()
    {
        var table = new RecentlyCompleted();
        var oracle = new SetThatForgets();
        table.Add(null, 7);
        oracle.Add(null, 7);
        for (ulong s = 100; s < 100 + RecentlyCompleted.Window - 1; s++)
        {
            table.Add(null, s);
            oracle.Add(null, s);
        }
        Assert.True(table.Contains(null, 7));
        table.Add(null, 7); // the 16,384th completion after the first: the set found it, then forgot it
        oracle.Add(null, 7);
        Assert.Equal(oracle.Contains(null, 7), table.Contains(null, 7));
        Assert.False(table.Contains(null, 7));
    }

    [Fact]
    public void Serials_that_share_a_home_slot_are_all_found()
    {
        var table = new RecentlyCompleted();
        // Multiples of the table size land in one slot: each is displaced one further.
        for (ulong k = 0; k < 2000; k++)
            table.Add(null, k * RecentlyCompleted.Window * 2);
        for (ulong k = 0; k < 2000; k++)
            Assert.True(table.Contains(null, k * RecentlyCompleted.Window * 2));
        Assert.False(table.Contains(null, 2000UL * RecentlyCompleted.Window * 2));
        Assert.False(table.Contains("other", 0));
    }
}
