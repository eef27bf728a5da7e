using System.Text;
using CsCheck;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class HexFieldTests
{
    [Fact]
    public void Hex_round_trips_any_bytes_in_either_case()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var upper = Encoding.ASCII.GetBytes(Convert.ToHexString(bytes));
            var lower = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(bytes));
            return HexField.DecodeToBytes(upper)!.SequenceEqual(bytes) && HexField.DecodeToBytes(lower)!.SequenceEqual(bytes);
        });
    }

    [Theory]
    [InlineData("ABC")]
    [InlineData("GG")]
    [InlineData("0x")]
    public void Odd_length_or_non_hex_is_not_hex(string s)
    {
        Assert.False(HexField.LooksLikeHex(Encoding.ASCII.GetBytes(s)));
        Assert.Null(HexField.DecodeToBytes(Encoding.ASCII.GetBytes(s)));
    }

    [Fact]
    public void Proctitle_decodes_to_NUL_separated_argv()
    {
        var args = ExecveArguments.FromProctitle(HexField.DecodeToString("6375726C002D73006874747028293A"u8));
        Assert.Equal(["curl", "-s", "http():"], args);
    }
}
