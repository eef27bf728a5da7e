using System.Net;
using CsCheck;
using ImdsWatch.Indicators;

namespace ImdsWatch.Tests.Indicators;

public sealed class AddressSpellingTests
{
    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("2852039166")]
    [InlineData("0xA9FEA9FE")]
    [InlineData("0xa9fea9fe")]
    [InlineData("025177524776")]
    [InlineData("0251.0376.0251.0376")]
    [InlineData("0xA9.0xFE.0xA9.0xFE")]
    [InlineData("169.254.43518")]
    [InlineData("169.16689662")]
    [InlineData("0xa9.254.0251.0xfe")]
    [InlineData("00000251.254.169.254")]
    [InlineData("169.254.169.254.")]
    public void Every_inet_aton_spelling_of_the_metadata_address_is_read(string spelling)
    {
        Assert.True(AddressSpelling.TryParseIPv4(spelling, out var a));
        Assert.Equal(IPAddress.Parse("169.254.169.254"), AddressSpelling.FromUInt32(a));
    }

    [Theory]
    [InlineData("169.254.169.0254")] // octal 0254 is 172
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("08.1.1.1")]
    [InlineData("0x1G.1.1.1")]
    [InlineData("")]
    [InlineData("1..1")]
    public void Malformed_or_other_addresses_are_not_the_metadata_address(string spelling)
    {
        var ok = AddressSpelling.TryParseIPv4(spelling, out var a);
        Assert.False(ok && AddressSpelling.FromUInt32(a).Equals(IPAddress.Parse("169.254.169.254")));
    }

    /// <summary>System.Net's IPv4 parser accepts the same 1-4 part decimal/hex/octal forms: an independent oracle.</summary>
    [Fact]
    public void Random_spellings_agree_with_System_Net_IPAddress()
    {
        var gen = from value in Gen.UInt
                  from parts in Gen.Int[1, 4]
                  from radixes in Gen.Int[0, 2].Array[4]
                  select (value, parts, radixes);
        gen.Sample(x =>
        {
            var text = Spell(x.value, x.parts, x.radixes);
            var ours = AddressSpelling.TryParseIPv4(text, out var a);
            var theirs = IPAddress.TryParse(text, out var ip);
            return ours && theirs && AddressSpelling.FromUInt32(a).Equals(ip);
        });
    }

    private static string Spell(uint value, int parts, int[] radixes)
    {
        ulong[] numbers = parts switch
        {
            1 => [value],
            2 => [value >> 24, value & 0xFFFFFF],
            3 => [value >> 24, (value >> 16) & 0xFF, value & 0xFFFF],
            _ => [value >> 24, (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF],
        };
        return string.Join('.', numbers.Select((n, i) => radixes[i] switch
        {
            1 => "0x" + n.ToString("X"),
            2 => "0" + Convert.ToString((long)n, 8),
            _ => n.ToString(),
        }));
    }

    [Theory]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::ffff:a9fe:a9fe")]
    [InlineData("::169.254.169.254")]
    [InlineData("64:ff9b::a9fe:a9fe")]
    public void Ipv6_forms_carrying_the_address_fold_to_it(string v6) =>
        Assert.Equal(IPAddress.Parse("169.254.169.254"), AddressSpelling.Fold(IPAddress.Parse(v6)));

    [Fact]
    public void Plain_ipv6_is_not_folded() =>
        Assert.Equal(IPAddress.Parse("fd00:ec2::254"), AddressSpelling.Fold(IPAddress.Parse("fd00:ec2::254")));
}
