using System.Text;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class RecurringArraysTests
{
    [Fact]
    public void An_array_found_is_the_one_kept_for_exactly_those_bytes()
    {
        // Few slots, many keys of similar bytes and lengths: every hit must be the array kept for the same key.
        var arrays = new RecurringArrays<string>(slots: 8);
        var kept = new Dictionary<string, string[]>();
        var random = new Random(17);
        for (var i = 0; i < 20_000; i++)
        {
            var key = "argc=2 a0=\"x\" a1=" + random.Next(40) + (random.Next(3) == 0 ? "\n" : "");
            var bytes = Encoding.UTF8.GetBytes(key);
            if (arrays.Find(bytes, out var slot) is { } found)
                Assert.Same(kept[key], found);
            else
            {
                var made = new[] { key };
                arrays.Keep(slot, bytes, made);
                kept[key] = made;
            }
        }
    }

    [Fact]
    public void Two_keys_of_one_hash_both_stay()
    {
        var arrays = new RecurringArrays<int>(slots: 2); // one pair of slots: every key hashes to it
        var (a, b) = ("a0=\"curl\""u8.ToArray(), "a0=\"wget\""u8.ToArray());
        int[] ofA = [1], ofB = [2];
        Assert.Null(arrays.Find(a, out var slot));
        arrays.Keep(slot, a, ofA);
        Assert.Null(arrays.Find(b, out slot));
        arrays.Keep(slot, b, ofB);
        for (var i = 0; i < 3; i++)
        {
            Assert.Same(ofA, arrays.Find(a, out _));
            Assert.Same(ofB, arrays.Find(b, out _));
        }
    }

    [Fact]
    public void A_third_key_replaces_the_one_used_less_recently()
    {
        var arrays = new RecurringArrays<int>(slots: 2);
        var (a, b, c) = ("a"u8.ToArray(), "b"u8.ToArray(), "c"u8.ToArray());
        int[] ofA = [1], ofC = [3];
        arrays.Find(a, out var slot);
        arrays.Keep(slot, a, ofA);
        arrays.Find(b, out slot);
        arrays.Keep(slot, b, [2]);
        Assert.Same(ofA, arrays.Find(a, out _)); // a used last: b goes next
        Assert.Null(arrays.Find(c, out slot));
        arrays.Keep(slot, c, ofC);
        Assert.Same(ofA, arrays.Find(a, out _));
        Assert.Null(arrays.Find(b, out _));
        Assert.Same(ofC, arrays.Find(c, out _));
    }
}
