using System.Buffers.Text;
using System.Text;
using CsCheck;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Tests.Sources;

public sealed class SyscallFieldsTests
{
    private const string Kernel =
        "arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321 pid=4400 auid=1000 uid=1000 gid=1000 "
        + "euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"curl\" exe=\"/usr/bin/curl\" "
        + "subj=unconfined key=\"imds\"\u001dARCH=x86_64 SYSCALL=connect AUID=\"alice\" UID=\"alice\"";

    [Fact]
    public void A_kernel_syscall_record_is_read_in_one_pass()
    {
        var body = Encoding.UTF8.GetBytes(Kernel);
        Assert.True(SyscallFields.TryScan(body, out var f));
        Assert.Equal("c000003e", Text(body, f.Arch));
        Assert.Equal("42", Text(body, f.Syscall));
        Assert.Equal("yes", Text(body, f.Success));
        Assert.Equal("4321", Text(body, f.ParentPid));
        Assert.Equal("4400", Text(body, f.Pid));
        Assert.Equal("connect", Text(body, f.Interpreted));
    }

    [Theory]
    [InlineData("arch=c000003e comm=\"a b\" pid=1")] // a separator inside quotes
    [InlineData("arch=c000003e comm=\"a\"pid=1")] // a field right after a closing quote
    [InlineData("arch=c000003e a0=x\"y pid=1")] // a quote inside an unquoted value
    [InlineData("type=USER msg='pid=1 uid=0'")] // nested fields
    [InlineData("pid=\"12\"")] // a quoted value of a key read here
    public void A_layout_the_kernel_does_not_write_is_left_to_the_field_by_field_search(string text)
    {
        Assert.False(SyscallFields.TryScan(Encoding.UTF8.GetBytes(text), out _));
    }

    /// <summary>
    /// Wherever the one-pass scan answers, it answers as the full parser's field index does — on bodies built from the
    /// keys it reads, repeated, quoted, split by separators across its 64-byte blocks.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Where_the_scan_answers_it_finds_what_the_full_parser_finds(bool wide)
    {
        string[] pieces =
        [
            "arch=", "syscall=", "success=", "pid=", "ppid=", "SYSCALL=", "a0=", "comm=", "=", "\"", " ", "  ", "\u001d",
            "c000003e", "42", "no", "yes", "x", "execve", "connect", "1234567890123456789012345678901234567890", "'", "{",
        ];
        var answered = 0;
        Gen.Int[0, pieces.Length - 1].Array[1, 80].Sample(picks =>
        {
            var body = Encoding.UTF8.GetBytes(string.Concat(picks.Select(p => pieces[p])));
            if (!SyscallFields.TryScan(body, out var f, wide))
                return;
            answered++;
            var index = AuditFields.Parse(body);
            Assert.Equal(Raw(index, "arch"), Value(body, f.Arch));
            Assert.Equal(Raw(index, "syscall"), Value(body, f.Syscall));
            Assert.Equal(Raw(index, "success"), Value(body, f.Success));
            Assert.Equal(Raw(index, "pid"), Value(body, f.Pid));
            Assert.Equal(Raw(index, "ppid"), Value(body, f.ParentPid));
            Assert.Equal(Interpreted(index, "SYSCALL"), Value(body, f.Interpreted));
        }, iter: 200_000);
        Assert.True(answered > 10_000, $"only {answered} bodies answered: the generator no longer tests the scan");
    }

    [Fact]
    public void Every_kernel_record_with_one_byte_changed_is_read_as_the_full_parser_reads_it()
    {
        var kernel = Encoding.UTF8.GetBytes(Kernel);
        Gen.Select(Gen.Int[0, kernel.Length - 1], Gen.OneOfConst((byte)' ', (byte)'"', (byte)'=', (byte)0x1D, (byte)'p', (byte)'x')).Sample((at, b) =>
        {
            var body = (byte[])kernel.Clone();
            body[at] = b;
            if (!SyscallFields.TryScan(body, out var f))
                return;
            var index = AuditFields.Parse(body);
            Assert.Equal(Raw(index, "pid"), Value(body, f.Pid));
            Assert.Equal(Raw(index, "ppid"), Value(body, f.ParentPid));
            Assert.Equal(Raw(index, "arch"), Value(body, f.Arch));
            Assert.Equal(Interpreted(index, "SYSCALL"), Value(body, f.Interpreted));
        }, iter: 20_000);
    }

    [Fact]
    public void Pid_ppid_and_success_of_a_kernel_record_are_found_by_a_few_searches()
    {
        var body = Encoding.UTF8.GetBytes(Kernel);
        Assert.True(SyscallFields.TryFindIds(body, withSuccess: true, out var f));
        Assert.Equal("yes", Text(body, f.Success));
        Assert.Equal("4321", Text(body, f.ParentPid));
        Assert.Equal("4400", Text(body, f.Pid));
        Assert.Equal((-1, -1, -1), (f.Arch, f.Syscall, f.Interpreted));
        var failed = Encoding.UTF8.GetBytes("arch=c000003e syscall=59 per=400000 success=no exit=-2 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2");
        Assert.True(SyscallFields.TryFindIds(failed, withSuccess: true, out f));
        Assert.Equal("no", Text(failed, f.Success));
        Assert.Equal("2", Text(failed, f.Pid));
        var noReturn = Encoding.UTF8.GetBytes("arch=c000003e syscall=231 a0=0 a1=0 a2=0 a3=0 items=0 ppid=1 pid=2 auid=0");
        Assert.True(SyscallFields.TryFindIds(noReturn, withSuccess: true, out f));
        Assert.Equal(-1, f.Success);
    }

    [Theory]
    [InlineData("4400", true, 4400)]
    [InlineData("123456789", true, 123456789)]
    [InlineData("2147483647", true, 2147483647)] // ten digits: the parser's
    [InlineData("2147483648", false, 0)] // too large
    [InlineData("00000000000042", true, 42)]
    [InlineData("-5", true, -5)]
    [InlineData("+7", true, 7)]
    [InlineData("12x", true, 12)] // the digits that start the value
    [InlineData("x", false, 0)]
    [InlineData("", false, 0)]
    public void A_pid_is_read_as_the_number_parser_reads_it(string value, bool read, int expected)
    {
        var body = Encoding.UTF8.GetBytes($"arch=c000003e syscall=42 success=no exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=1 pid={value}");
        Assert.True(SyscallFields.TryFindIds(body, withSuccess: true, out var f));
        Assert.True(SyscallFields.IsNo(body, f.Success));
        Assert.Equal(read, f.TryReadIds(body, out var pid, out var ppid));
        Assert.Equal((expected, 1), (pid, ppid));
    }

    [Theory]
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321 pid=4400 comm=\"x pid=9\"")] // a later pid=
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321 pid=4400 msg='ppid=9'")] // a later ppid=
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321 pid=4400 x=1 success=no")] // a later success=
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321  pid=4400")] // two spaces
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=\"4321\" pid=4400")] // quoted
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321 pid=\"4400\"")] // a quoted pid
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 pid=4400 ppid=4321")] // not side by side
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 comm=\"a\" items=0 ppid=4321 pid=4400")] // a quote before them
    [InlineData("arch=c000003e syscall=42 success={yes} exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321 pid=4400")] // a braced success
    [InlineData("arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd a2=10 a3=0 items=0 ppid=4321 pid=4400\u001dpid=1")] // pid before a separator
    public void A_layout_the_kernel_does_not_write_or_a_key_repeated_is_left_to_the_whole_scan(string text)
    {
        Assert.False(SyscallFields.TryFindIds(Encoding.UTF8.GetBytes(text), withSuccess: true, out _));
    }

    /// <summary>
    /// Where the searches answer, pid and ppid (and success) are the full parser's: on kernel records with the keys they
    /// read repeated, quoted, nested and split after their fields, and with one byte of the head changed.
    /// </summary>
    [Fact]
    public void Where_the_searches_answer_pid_ppid_and_success_are_the_full_parsers()
    {
        const string head = "arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=10 pid=11";
        string[] pieces =
        [
            " ", "pid=", "ppid=", "success=", "no", "msg='", "'", "\"", "=", "x", "\u001d", "SYSCALL=", "{", "}", "p", "id=", "12",
        ];
        var answered = 0;
        Gen.Select(Gen.Int[0, pieces.Length - 1].Array[0, 30], Gen.Int[0, head.Length], Gen.OneOfConst(' ', '"', '=', 'p', 'x', '\u001d', '\'', '{')).Sample((picks, at, b) =>
        {
            var text = head + string.Concat(picks.Select(p => pieces[p]));
            if (at < head.Length)
                text = text[..at] + b + text[(at + 1)..];
            var body = Encoding.UTF8.GetBytes(text);
            var wide = SyscallFields.TryFindIds<SyscallFields.Wide>(body, withSuccess: true, out var f);
            Assert.Equal(wide, SyscallFields.TryFindIds<SyscallFields.Narrow>(body, withSuccess: true, out var narrow));
            Assert.Equal(f, narrow);
            if (!wide)
                return;
            answered++;
            var index = AuditFields.Parse(body);
            Assert.Equal(Raw(index, "pid"), Value(body, f.Pid));
            Assert.Equal(Raw(index, "ppid"), Value(body, f.ParentPid));
            Assert.Equal(Raw(index, "success"), Value(body, f.Success));
            Assert.Equal(Raw(index, "success") == "no", SyscallFields.IsNo(body, f.Success));
            Assert.Equal(Utf8Parser.TryParse(Encoding.UTF8.GetBytes(Raw(index, "pid") ?? ""), out int pid, out _), f.TryReadIds(body, out var read, out _));
            Assert.Equal(pid, read);
        }, iter: 100_000);
        Assert.True(answered > 5_000, $"only {answered} bodies answered: the generator no longer tests the searches");
    }

    private static string? Text(byte[] body, int start) => start < 0 ? null : Encoding.UTF8.GetString(SyscallFields.Value(body, start));

    private static string? Value(byte[] body, int start) => Text(body, start);

    private static string? Raw(AuditFields index, string key) =>
        index.TryGetRaw(key, out var v) ? Encoding.UTF8.GetString(v) : null;

    private static string? Interpreted(AuditFields index, string key)
    {
        for (var n = index.Count - 1; n >= 0; n--)
        {
            if (index.IsInterpretedAt(n) && index.KeyAt(n).SequenceEqual(Encoding.UTF8.GetBytes(key)))
                return Encoding.UTF8.GetString(index.ValueAt(n));
        }
        return null;
    }
}
