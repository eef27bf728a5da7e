using System.Text;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class AuditRecordArenaTests
{
    private static byte[] Body(int n, int length = 200) =>
        Encoding.ASCII.GetBytes($"n={n} ").Concat(Enumerable.Repeat((byte)('a' + (n % 26)), length)).ToArray();

    [Fact]
    public void Records_keep_their_bodies_while_others_are_released_and_reused()
    {
        var arena = new AuditRecordArena();
        var kept = new List<(AuditRecord Record, byte[] Body)>();
        for (var n = 0; n < 20_000; n++)
        {
            var body = Body(n, n % 300);
            var record = arena.Rent(body);
            if (n % 97 == 0)
                kept.Add((record, body));
            else
                arena.Release(record);
        }
        foreach (var (record, body) in kept)
            Assert.True(record.Body.SequenceEqual(body));
    }

    [Fact]
    public void Records_held_long_do_not_pin_more_than_a_bounded_number_of_chunks()
    {
        var arena = new AuditRecordArena();
        var held = new List<(AuditRecord Record, byte[] Body)>();
        // One record in every hundred stays (an event that never completes): without unpinning, every chunk would stay.
        var chunks = 4 * AuditRecordArena.MaxPinnedChunks;
        var records = chunks * AuditRecordArena.ChunkBytes / 210;
        for (var n = 0; n < records; n++)
        {
            var body = Body(n);
            var record = arena.Rent(body);
            if (n % 100 == 0)
                held.Add((record, body));
            else
                arena.Release(record);
            Assert.InRange(arena.PinnedChunks, 0, AuditRecordArena.MaxPinnedChunks);
        }
        foreach (var (record, body) in held)
            Assert.True(record.Body.SequenceEqual(body));
        foreach (var (record, _) in held)
            arena.Release(record);
        Assert.Equal(0, arena.PinnedChunks);
    }

    [Fact]
    public void A_body_larger_than_a_chunk_part_gets_an_array_of_its_own()
    {
        var arena = new AuditRecordArena();
        var large = Body(1, AuditRecordArena.ChunkBytes);
        var small = Body(2);
        var first = arena.Rent(large);
        var second = arena.Rent(small);
        Assert.True(first.Body.SequenceEqual(large));
        Assert.True(second.Body.SequenceEqual(small));
        arena.Release(first);
        Assert.True(second.Body.SequenceEqual(small));
    }
}
