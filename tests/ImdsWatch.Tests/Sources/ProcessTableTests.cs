using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Tests.Sources;

/// <summary>The selector's process table: every process found again after growing and pruning, none lost or mixed up.</summary>
public sealed class ProcessTableTests
{
    [Fact]
    public void Processes_are_found_again_after_the_table_grows_and_prunes()
    {
        using var table = new ProcessTable(expected: 16);
        var rng = new Random(7);
        var alive = new Dictionary<(int Node, int Pid), long>();
        for (var i = 0; i < 200_000; i++)
        {
            var node = rng.Next(3);
            var pid = rng.Next(1, 40_000);
            ref var p = ref table.Find(node, pid);
            p.Newest = i;
            alive[(node, pid)] = i;
            if (table.IsCrowded)
            {
                var horizon = i - 5_000;
                table.Prune((e, _) => e.Newest >= horizon);
                foreach (var key in alive.Where(a => a.Value < horizon).Select(a => a.Key).ToList())
                    alive.Remove(key);
                Assert.Equal(alive.Count, table.Count);
            }
        }
        foreach (var ((node, pid), newest) in alive)
            Assert.Equal(newest, table.Find(node, pid).Newest);
        Assert.Equal(alive.Count, table.Count);
    }

    [Fact]
    public void The_same_pid_on_two_nodes_is_two_processes()
    {
        using var table = new ProcessTable(expected: 1024);
        table.Find(0, 42).Newest = 1;
        table.Find(1, 42).Newest = 2;
        Assert.Equal(1, table.Find(0, 42).Newest);
        Assert.Equal(2, table.Find(1, 42).Newest);
        Assert.Equal(-1, table.Find(2, 42).Newest); // new: no exec yet
        Assert.Equal(3, table.Count);
        table.Clear();
        Assert.Equal(0, table.Count);
        Assert.Equal(-1, table.Find(0, 42).Newest);
    }
}
