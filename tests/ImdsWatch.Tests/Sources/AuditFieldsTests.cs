using System.Text;
using CsCheck;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class AuditFieldsTests
{
    private static AuditFields F(string body) => AuditFields.Parse(Encoding.UTF8.GetBytes(body));

    [Fact]
    public void Quoted_values_are_literal_and_unquoted_untrusted_values_are_hex()
    {
        var f = F("comm=\"curl\" exe=2F7573722F62696E2F707974686F6E322E373B3538643163636662202864656C6574656429 key=(null)");
        Assert.Equal("curl", f.GetUntrusted("comm"));
        Assert.Equal("/usr/bin/python2.7;58d1ccfb (deleted)", f.GetUntrusted("exe"));
        Assert.Null(f.GetUntrusted("key"));
    }

    [Fact]
    public void Enriched_fields_after_the_0x1D_separator_are_interpreted_fields()
    {
        var f = F("uid=1000 auid=1000 key=\"imds\"\u001dARCH=x86_64 SYSCALL=connect UID=\"deploy\" AUID=\"alice\"");
        Assert.Equal("1000", f.GetString("uid"));
        Assert.Equal("deploy", f.GetInterpreted("UID"));
        Assert.Equal("alice", f.GetInterpreted("AUID"));
        Assert.Equal("connect", f.GetInterpreted("SYSCALL"));
        Assert.Equal("imds", f.GetUntrusted("key"));
    }

    [Fact]
    public void Interpreted_field_glued_to_a_value_by_the_separator_is_split()
    {
        // PATH records end "cap_fver=0<0x1D>OUID=..." with no space.
        var f = F("item=0 name=\"/bin/echo\" cap_fver=0\u001dOUID=\"root\" OGID=\"root\"");
        Assert.Equal("0", f.GetString("cap_fver"));
        Assert.Equal("root", f.GetInterpreted("OUID"));
    }

    [Fact]
    public void User_message_fields_inside_msg_quotes_are_merged()
    {
        var f = F("pid=13015 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:session_open acct=\"root\" exe=\"/usr/sbin/crond\" hostname=? addr=? terminal=cron res=success'");
        Assert.Equal("root", f.GetUntrusted("acct"));
        Assert.Equal("/usr/sbin/crond", f.GetUntrusted("exe"));
        Assert.Null(f.GetString("hostname"));
        Assert.Equal("success", f.GetString("res"));
    }

    [Fact]
    public void Double_spaces_and_bare_words_do_not_break_the_fields()
    {
        var f = F("saddr=00000000000000000000000000000000  cwd=\"/tmp\"\u001dSADDR=unknown family(0)  FAM=x");
        Assert.Equal("00000000000000000000000000000000", f.GetString("saddr"));
        Assert.Equal("/tmp", f.GetUntrusted("cwd"));
        Assert.Equal("x", f.GetInterpreted("FAM"));
    }

    [Fact]
    public void Unterminated_quote_takes_the_rest_of_the_line()
    {
        var f = F("comm=\"cu rl");
        Assert.Equal("cu rl", f.GetUntrusted("comm"));
    }

    [Fact]
    public void One_index_reused_for_a_shorter_body_at_an_offset_holds_only_that_body_fields()
    {
        var fields = new AuditFields(null);
        var first = Encoding.UTF8.GetBytes("a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11 l=12 m=13 n=14 o=15 p=16 q=17 r=18 s=19 t=20 u=21 v=22 w=23 x=24 y=25 z=26 aa=27 bb=28 cc=29 dd=30 ee=31 ff=32 gg=33");
        fields.Reset(first, 0, first.Length);
        Assert.Equal(33, fields.Count);
        Assert.Equal(33, fields.GetInt64("gg"));
        var second = Encoding.UTF8.GetBytes("XXXXpid=7 exe=\"/bin/sh\" gg=1YYYY");
        fields.Reset(second, 4, second.Length - 8);
        Assert.Equal(3, fields.Count);
        Assert.Equal(7, fields.GetInt64("pid"));
        Assert.Equal("/bin/sh", fields.GetUntrusted("exe"));
        Assert.Equal(1, fields.GetInt64("gg"));
        Assert.Null(fields.GetInt64("a"));
        Assert.Equal(["pid", "exe", "gg"], fields.All.Select(f => f.Key));
    }

    [Fact]
    public void Numbers_read_as_Utf8Parser_reads_them_whatever_the_digits()
    {
        Gen.Select(Gen.Int[0, 3], Gen.Char["0123456789"].Array[0, 24], Gen.Int[0, 2]).Sample((sign, digits, tail) =>
        {
            var value = (sign switch { 1 => "-", 2 => "+", _ => "" }) + new string(digits) + (tail == 1 ? "x" : "");
            var body = Encoding.UTF8.GetBytes($"a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 n={value} z=0");
            long? expected = System.Buffers.Text.Utf8Parser.TryParse(Encoding.UTF8.GetBytes(value), out long v, out var used) && used == value.Length ? v : null;
            Assert.Equal(expected, AuditFields.Parse(body).GetInt64("n"));
        });
    }

    [Fact]
    public void Fields_and_lookups_match_a_byte_by_byte_reading_on_any_body()
    {
        // Pieces rich in separators, quotes and braces, long enough together to cross the 64-byte blocks the index
        // reads at a time; each body is read alone and at an offset inside a larger buffer with bytes either side.
        string[] pieces = [" ", "  ", "=", "\"", "'", "{", "}", "\u001d", "a", "pid", "msg=", "msg='", "key", "x=1", "UID=\"root\"", "0123456789abcdef", "k=v=w"];
        var earlier = Encoding.UTF8.GetBytes(string.Join(' ', Enumerable.Range(0, 80).Select(n => $"k{n}=\"{n}\" a{n % 7}=1")));
        Gen.Select(Gen.Int[0, pieces.Length - 1].Array[0, 90], Gen.Int[0, 8]).Sample((picks, pad) =>
        {
            var body = Encoding.UTF8.GetBytes(string.Concat(picks.Select(p => pieces[p])));
            var expected = Oracle(body, 0, body.Length, interpreted: false);
            var buffer = new byte[body.Length + (2 * pad)];
            buffer.AsSpan().Fill((byte)' ');
            buffer.AsSpan(0, pad).Fill((byte)'=');
            body.CopyTo(buffer, pad);
            var reused = new AuditFields(null);
            reused.Reset(earlier, 0, earlier.Length);
            foreach (var key in new[] { "a3", "k5", "a6", "k79" })
                Assert.Equal(key[0] == 'a' ? "1" : key[1..], reused.GetString(key)); // by its table (more than eight fields)
            foreach (var fields in new[] { AuditFields.Parse(body), reused.Reset(buffer, pad, body.Length) })
            {
                Assert.Equal(expected, fields.All.Select(f => (f.Key, f.Value, f.Quoted, f.Interpreted)));
                foreach (var (key, _, _, interpreted) in expected)
                {
                    var last = expected.Last(f => f.Key == key && f.Interpreted == interpreted);
                    if (interpreted)
                        Assert.Equal(last.Value, fields.GetInterpreted(key));
                    else
                        Assert.Equal(last.Value is "(null)" or "?" ? null : last.Value, fields.GetString(key));
                }
                Assert.Null(fields.GetString("absent"));
            }
        });
    }

    /// <summary>The fields as the index read them before it was vectorized: byte by byte, the last of a key wins on lookup.</summary>
    private static List<(string Key, string Value, bool Quoted, bool Interpreted)> Oracle(byte[] s, int from, int to, bool interpreted)
    {
        var fields = new List<(string, string, bool, bool)>();
        var i = from;
        while (i < to)
        {
            if (s[i] == 0x1D)
            {
                interpreted = true;
                i++;
                continue;
            }
            if (s[i] == (byte)' ')
            {
                i++;
                continue;
            }
            var keyStart = i;
            while (i < to && s[i] is not (byte)'=' and not (byte)' ' and not 0x1D)
                i++;
            if (i >= to || s[i] != (byte)'=')
                continue;
            var key = Encoding.UTF8.GetString(s, keyStart, i - keyStart);
            i++;
            int start, end;
            var open = i < to ? s[i] : (byte)0;
            var close = open switch { (byte)'"' => (byte)'"', (byte)'\'' => (byte)'\'', (byte)'{' => (byte)'}', _ => (byte)0 };
            if (close != 0)
            {
                var stop = Array.IndexOf(s, close, i + 1, to - i - 1);
                if (stop < 0)
                    (start, end, i) = (i + 1, to, to);
                else if (open == (byte)'{')
                    (start, end, i) = (i, stop + 1, stop + 1);
                else
                    (start, end, i) = (i + 1, stop, stop + 1);
            }
            else
            {
                start = i;
                while (i < to && s[i] is not (byte)' ' and not 0x1D)
                    i++;
                end = i;
            }
            if (open == (byte)'\'' && key == "msg")
                fields.AddRange(Oracle(s, start, end, interpreted));
            else
                fields.Add((key, Encoding.UTF8.GetString(s, start, end - start), open == (byte)'"', interpreted));
        }
        return fields;
    }
}
