using System.Text;
using CsCheck;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class AuditRecordParserTests
{
    private static AuditRecord Parse(string line)
    {
        Assert.True(new AuditRecordParser().TryParse(Encoding.UTF8.GetBytes(line), 0, 1, out var r, out var error), error);
        return r!;
    }

    private static string Fails(string line)
    {
        Assert.False(new AuditRecordParser().TryParse(Encoding.UTF8.GetBytes(line), 0, 1, out _, out var error));
        return error!;
    }

    [Fact]
    public void Raw_record_header_gives_type_time_and_serial()
    {
        var r = Parse("type=SYSCALL msg=audit(1492037289.295:58): arch=c000003e syscall=42");
        Assert.Equal(AuditRecordType.Syscall, r.Type);
        Assert.Equal(1492037289295, r.EpochMilliseconds);
        Assert.Equal(58UL, r.Serial);
        Assert.Null(r.Node);
        Assert.Equal("arch=c000003e syscall=42", Encoding.UTF8.GetString(r.Body));
    }

    [Fact]
    public void Node_prefix_names_the_host()
    {
        var r = Parse("node=web-1.example type=EXECVE msg=audit(1.002:7): argc=1 a0=\"ls\"");
        Assert.Equal("web-1.example", r.Node);
        Assert.Equal(AuditRecordType.Execve, r.Type);
        Assert.Equal(1002, r.EpochMilliseconds);
    }

    [Fact]
    public void Each_record_names_its_own_node_when_nodes_change_from_line_to_line()
    {
        var parser = new AuditRecordParser();
        string?[] nodes = ["vm", "vm", "web-1.example.internal.long-name", "web-1.example.internal.long-name", "vm", "vm2", null, "v", "vm", "ümlaut-host", "ümlaut-host"];
        AuditRecord? before = null;
        var serial = 1;
        foreach (var node in nodes)
        {
            var line = (node is null ? "" : $"node={node} ") + $"type=SYSCALL msg=audit(1.002:{serial++}): arch=c000003e syscall=42";
            Assert.True(parser.TryParse(Encoding.UTF8.GetBytes(line), 0, 1, out var r, out var error), error);
            Assert.Equal(node, r!.Node);
            Assert.Equal(AuditRecordType.Syscall, r.Type);
            if (before is not null && before.Node == node && node is not null)
                Assert.Same(before.Node, r.Node); // one string for a node, as the assembler's reference comparisons expect
            before = r;
        }
    }

    [Fact]
    public void Syslog_relayed_kernel_record_with_numeric_type_is_read()
    {
        var r = Parse("Jan  1 00:00:00 host kernel: [  1.0] audit: type=1300 audit(1492037289.295:58): arch=c000003e syscall=42");
        Assert.Equal(AuditRecordType.Syscall, r.Type);
        Assert.Equal(58UL, r.Serial);
    }

    [Fact]
    public void Unknown_type_keeps_its_number()
    {
        var r = Parse("type=UNKNOWN[1334] msg=audit(1626883065.201:216697): prog-id=45 op=UNLOAD");
        Assert.Equal(1334, r.Type);
        Assert.Equal("UNKNOWN[1334]", r.TypeName);
    }

    [Fact]
    public void Serial_beyond_32_bits_and_trailing_whitespace_are_tolerated()
    {
        var r = Parse("type=EOE msg=audit(1492037289.295:4294967296):   \r");
        Assert.Equal(4294967296UL, r.Serial);
        Assert.True(r.Body.IsEmpty);
    }

    [Theory]
    [InlineData("hello world", "no type= field")]
    [InlineData("type=SYSCALL", "type= has no value")]
    [InlineData("type=SYSCALL arch=c000003e", "no audit(...) stamp after type=")]
    [InlineData("type=SYSCALL msg=audit(abc:1): x=1", "malformed audit(seconds.millis:serial) stamp")]
    [InlineData("type=SYSCALL msg=audit(1.5): x=1", "malformed audit(seconds.millis:serial) stamp")]
    public void Malformed_lines_are_rejected_with_a_reason(string line, string reason) => Assert.Equal(reason, Fails(line));

    [Fact]
    public void Daemon_types_are_told_from_the_bytes_as_the_parser_tells_them()
    {
        var name = Gen.OneOf(
            Gen.OneOfConst("DAEMON_START", "DAEMON_ROTATE", "DAEMON_ERR", "DAEMON_FOO", "DAEMON_", "SYSCALL", "NORMAL", "1200", "1299", "1300",
                "+1205", "-1200", " 1200", "\t1201", "12a0", "UNKNOWN[1204]", "UNKNOWN[1334]", "UNKNOWN[]", "UNKNOWN[1200", "daemon_start", "\u00e91200"),
            from n in Gen.Int[1000, 1400] select n.ToString(System.Globalization.CultureInfo.InvariantCulture),
            from n in Gen.Int[1100, 1300] select $"UNKNOWN[{n}]",
            Gen.String[Gen.Char["DAEMON_0129[]+ "], 0, 14]);
        name.Sample(n => Assert.Equal(AuditRecordType.IsDaemon(AuditRecordType.Parse(n)), AuditRecordType.IsDaemonName(System.Text.Encoding.UTF8.GetBytes(n))));
    }

    [Theory]
    [InlineData("BPRM_FCAPS")]
    [InlineData("MMAP")]
    [InlineData("BPRM_FCAP")]
    [InlineData("MMAPS")]
    [InlineData("bprm_fcaps")]
    [InlineData("CONFIG_CHANGE")]
    [InlineData("SYSCALL")]
    [InlineData("USER_CMD")]
    [InlineData("UNKNOWN[1321]")]
    [InlineData("1323")]
    public void Type_codes_told_from_the_bytes_are_those_the_parser_gives_the_name(string name)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name);
        Assert.Equal(AuditRecordType.Parse(name), AuditRecordType.CodeOf(bytes));
        // The header's fast table (the common types, read without a lookup) knows a name or leaves it to the lookup.
        var fast = AuditRecordParser.TypeOf(bytes);
        Assert.True(fast == -1 || fast == AuditRecordType.Parse(name), $"{name}: fast table {fast}");
    }

    /// <summary>A stamp's numbers read eight digits at a time are those read one at a time: any bytes, any limit.</summary>
    [Fact]
    public void Digits_read_eight_at_a_time_are_the_digits_read_one_by_one()
    {
        var bytes = Gen.OneOf(Gen.Byte[(byte)'0', (byte)'9'], Gen.Byte[(byte)'0', (byte)'9'], Gen.Byte[(byte)'0', (byte)'9'], Gen.Byte);
        Gen.Select(bytes.Array[0, 30], Gen.Int[1, 19]).Sample((s, max) =>
        {
            ulong expected = 0;
            var n = 0;
            while (n < max && n < s.Length && s[n] is >= (byte)'0' and <= (byte)'9')
                expected = (expected * 10) + (ulong)(s[n++] - '0');
            Assert.Equal(n, AuditRecordParser.Digits(s, max, out var value));
            Assert.Equal(expected, value);
        }, iter: 200_000);
    }

    [Theory]
    [InlineData("type=SYSCALL msg=audit(1790000000.123:4294967296): x=1", 1790000000123L, 4294967296UL)]
    [InlineData("type=SYSCALL msg=audit(1790000000.000:9999999999999999999): x=1", 1790000000000L, 9999999999999999999UL)] // 19 digits
    [InlineData("type=SYSCALL msg=audit(1790000000.123:12345678x): x=1", 0L, 0UL)] // a serial ending in a letter
    [InlineData("type=SYSCALL msg=audit(17900000001234567.000:1): x=1", 0L, 0UL)] // 17 digits of seconds
    public void A_stamp_is_read_whole_or_not_at_all(string line, long milliseconds, ulong serial)
    {
        var ok = AuditRecordParser.TryParseHeader(Encoding.UTF8.GetBytes(line), out var h, out _);
        Assert.Equal(milliseconds != 0, ok);
        if (ok)
            Assert.Equal((milliseconds, serial), (h.EpochMilliseconds, h.Serial));
    }
}
