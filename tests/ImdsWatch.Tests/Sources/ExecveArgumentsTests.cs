using System.Text;
using CsCheck;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class ExecveArgumentsTests
{
    private static IReadOnlyList<string> Rebuild(params string[] bodies) =>
        ExecveArguments.Rebuild(bodies.Select(b => AuditFields.Parse(Encoding.UTF8.GetBytes(b))), out _);

    [Fact]
    public void Quoted_and_hex_arguments_are_decoded()
    {
        var args = Rebuild("argc=3 a0=\"curl\" a1=\"-H\" a2=" + Support.Audit.Hex("Metadata: true"));
        Assert.Equal(["curl", "-H", "Metadata: true"], args);
    }

    [Fact]
    public void Long_argument_split_over_records_is_joined_in_order()
    {
        var args = Rebuild(
            "argc=2 a0=\"/bin/echo\" a1_len=12 a1[0]=" + Support.Audit.Hex("http://"),
            "a1[1]=\"169.2\"",
            "a1[2]=" + Support.Audit.Hex("54.169.254/x"));
        Assert.Equal("http://169.254.169.254/x", args[1]);
    }

    [Fact]
    public void Missing_arguments_are_reported()
    {
        ExecveArguments.Rebuild([AuditFields.Parse("argc=3 a0=\"ls\""u8)], out var problem);
        Assert.Equal("EXECVE has argc=3 but 2 argument(s) missing", problem);
    }

    [Fact]
    public void Rebuilding_from_the_bytes_gives_what_the_fields_as_strings_give()
    {
        // The field-by-field reading of EXECVE bodies against the plain one over the materialized fields.
        var key = Gen.OneOf(
            Gen.OneOfConst("argc", "a", "a0", "a1", "a2", "a10", "a1_len", "b1", "a+1", "a1\t", "a\u00e91", "a0x", "A1"),
            from i in Gen.Int[0, 4] from p in Gen.Int[0, 3] select $"a{i}[{p}]",
            from i in Gen.Int[0, 3] select $"a{i}[x]");
        var value = Gen.OneOf(
            Gen.OneOfConst("(null)", "?", "\"\"", "3", "2", "-1", "\"a b\"", "41FF", "4", "zz\u00e9", "\"\u00e9\""),
            from v in Gen.String[Gen.Char["abc/: .1"], 0, 6] select $"\"{v}\"",
            from v in Gen.String[Gen.Char["abc/: .1"], 1, 6] select Support.Audit.Hex(v));
        var field = from k in key from v in value from glue in Gen.OneOfConst(" ", "  ", "\u001d") select k + "=" + v + glue;
        var body = from fields in field.Array[0, 8] select string.Concat(fields).TrimEnd();
        body.Array[1, 3].Sample(bodies =>
        {
            var records = bodies.Select(b => AuditFields.Parse(Encoding.UTF8.GetBytes(b))).ToList();
            var expected = Reference(records, out var expectedProblem);
            var actual = ExecveArguments.Rebuild(records, out var problem);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedProblem, problem);
        });
    }

    /// <summary>The rebuild over <see cref="AuditFields.All"/>, string by string, as it was first written.</summary>
    private static IReadOnlyList<string> Reference(IEnumerable<AuditFields> records, out string? problem)
    {
        var argc = -1;
        var whole = new Dictionary<int, string>();
        var pieces = new Dictionary<int, SortedDictionary<int, string>>();
        foreach (var f in records.SelectMany(r => r.All).Where(f => !f.Interpreted))
        {
            if (f.Key == "argc")
            {
                argc = int.TryParse(f.Value, out var n) ? n : argc;
                continue;
            }
            if (f.Key.Length < 2 || f.Key[0] != 'a' || !char.IsAsciiDigit(f.Key[1]))
                continue;
            var bracket = f.Key.IndexOf('[', StringComparison.Ordinal);
            if (bracket > 0 && f.Key.EndsWith(']') && int.TryParse(f.Key.AsSpan(1, bracket - 1), out var argIndex)
                && int.TryParse(f.Key.AsSpan(bracket + 1, f.Key.Length - bracket - 2), out var piece))
            {
                if (!pieces.TryGetValue(argIndex, out var list))
                    pieces[argIndex] = list = [];
                list[piece] = f.DecodeUntrusted() ?? "";
            }
            else if (int.TryParse(f.Key.AsSpan(1), out var index))
            {
                whole[index] = f.DecodeUntrusted() ?? "";
            }
        }
        foreach (var (index, list) in pieces)
            whole[index] = string.Concat(list.Values);
        var count = argc >= 0 ? argc : (whole.Count == 0 ? 0 : whole.Keys.Max() + 1);
        problem = null;
        // The damage policy: at most 1024 arguments taken as lost, 100 000 in all; beyond, the argc is implausible.
        var plausible = Math.Min(100_000, whole.Count + 1024);
        if (count > plausible)
        {
            problem = $"argc={count} is implausible for {whole.Count} argument(s) recorded";
            count = Math.Min(plausible, whole.Keys.Where(k => k < plausible).DefaultIfEmpty(-1).Max() + 1);
        }
        var args = Enumerable.Range(0, count).Select(i => whole.GetValueOrDefault(i, "")).ToList();
        var missing = Enumerable.Range(0, count).Count(i => !whole.ContainsKey(i));
        if (missing > 0)
            problem = $"EXECVE has argc={count} but {missing} argument(s) missing";
        return args;
    }

    [Theory]
    [InlineData("argc=7c a0=\"curl\" a1844674400=\"x\"")]
    [InlineData("argc=999999999 a0=\"curl\" a1=\"x\"")]
    [InlineData("argc=2 a0=\"curl\" a2147483646=\"x\"")]
    public void A_damaged_argc_or_argument_index_gives_a_short_argv_and_a_problem(string body)
    {
        var args = ExecveArguments.Rebuild([AuditFields.Parse(Encoding.UTF8.GetBytes(body))], out var problem);
        Assert.InRange(args.Count, 1, 1025 + 2);
        Assert.Equal("curl", args[0]);
        Assert.NotNull(problem);
    }
}
