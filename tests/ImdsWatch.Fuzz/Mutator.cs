using System.Text;

namespace ImdsWatch.Fuzz;

/// <summary>
/// Deterministic mutations for a given seed of the random source: the same seed, seeds and count give the same
/// inputs, so a failure of the fixed-seed run in the tests is reproduced by running it again.
/// </summary>
internal sealed class Mutator(Random random, int maxLength = 64 * 1024)
{
    /// <summary>Values that have broken parsers before, or that sit on a boundary.</summary>
    private static readonly byte[][] Tokens =
    [
        .. new[]
        {
            "-9223372036854775808", "9223372036854775807", "18446744073709551615", "253402300800", "10000000000000000",
            "4294967295", "-1", "0", "00000000000000000000001", "1e308", "NaN", ".", ":", "::", "):", "audit(", "msg=audit(",
            "type=", "node=", "\u001d", "#035", "\\ud800", "\\udc00", "\\u0000", "%", "%2", "%25", "%ff", "\"", "'", "\\", "$(", "`",
            "169.254.169.254", "0xA9FEA9FE", "2852039166", "[fd00:ec2::254]", "::ffff:169.254.169.254", "metadata.google.internal",
            "/latest/meta-data/iam/security-credentials/", "/dev/tcp/169.254.169.254/80", "http://", "@", "a1[0]=", "a1_len=",
            "saddr=", "0200", "0A00", "argc=", "<Event", "]]>", "DST=", "SRC=", ":61:", "T25:", "Feb 30", "+99:99", "Z",
            "{\"", "\":", "[", "]", "{", "}", "\n", "\r\n", "\0", "\u00ff", "\uffff", "\U0001F600",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    private static readonly byte[] InterestingBytes = "\0\n\r\t\u001b\"'\\=:.%"u8.ToArray();

    public byte[] Mutate(byte[] seed, IReadOnlyList<byte[]> others)
    {
        var data = new List<byte>(seed);
        var rounds = 1 + random.Next(random.Next(2) == 0 ? 2 : 8);
        for (var r = 0; r < rounds; r++)
            MutateOnce(data, others);
        if (data.Count > maxLength)
            data.RemoveRange(maxLength, data.Count - maxLength);
        return [.. data];
    }

    private void MutateOnce(List<byte> d, IReadOnlyList<byte[]> others)
    {
        var at = d.Count == 0 ? 0 : random.Next(d.Count + 1);
        switch (random.Next(13))
        {
            case 0 when d.Count > 0: // flip a bit
                var i = random.Next(d.Count);
                d[i] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when d.Count > 0: // set a byte
                d[random.Next(d.Count)] = (byte)random.Next(256);
                break;
            case 2: // insert a byte
                d.Insert(at, (byte)random.Next(256));
                break;
            case 3 when d.Count > 0: // delete a range
                var n = Math.Min(d.Count - Math.Min(at, d.Count - 1), 1 + random.Next(16));
                d.RemoveRange(Math.Min(at, d.Count - 1), n);
                break;
            case 4:
            case 5: // insert a token
                d.InsertRange(at, Tokens[random.Next(Tokens.Length)]);
                break;
            case 6 when d.Count > 0: // replace a run of digits with a token that is a number
                var digit = d.FindIndex(random.Next(d.Count), b => b is >= (byte)'0' and <= (byte)'9');
                if (digit >= 0)
                {
                    var end = digit;
                    while (end < d.Count && d[end] is >= (byte)'0' and <= (byte)'9')
                        end++;
                    d.RemoveRange(digit, end - digit);
                    d.InsertRange(digit, Tokens[random.Next(8)]);
                }
                break;
            case 7 when d.Count > 0: // duplicate a chunk, sometimes many times (long lines, repeated hosts)
                var start = random.Next(d.Count);
                var length = Math.Min(d.Count - start, 1 + random.Next(64));
                var chunk = d.GetRange(start, length);
                var times = random.Next(4) == 0 ? 1 + random.Next(2000) : 1;
                for (var t = 0; t < times && d.Count < maxLength; t++)
                    d.InsertRange(start, chunk);
                break;
            case 8 when others.Count > 0: // splice with another seed
                var other = others[random.Next(others.Count)];
                var from = other.Length == 0 ? 0 : random.Next(other.Length);
                d.RemoveRange(at, d.Count - at);
                d.AddRange(other.AsSpan(from).ToArray());
                break;
            case 9 when d.Count > 0: // truncate
                d.RemoveRange(at, d.Count - at);
                break;
            case 10 when d.Count > 1: // swap two bytes
                var x = random.Next(d.Count);
                var y = random.Next(d.Count);
                (d[x], d[y]) = (d[y], d[x]);
                break;
            case 11 when d.Count > 0: // an interesting byte: a control, a quote, a high byte
                d[random.Next(d.Count)] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            default: // append a line of another seed
                if (others.Count > 0)
                {
                    d.Add((byte)'\n');
                    d.AddRange(others[random.Next(others.Count)]);
                }
                break;
        }
    }
}
