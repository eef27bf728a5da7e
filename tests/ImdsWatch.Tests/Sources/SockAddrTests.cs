using System.Buffers.Binary;
using System.Net;
using System.Text;
using CsCheck;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class SockAddrTests
{
    private static SockAddr Hex(string hex, bool? bigEndian = null) => SockAddr.DecodeHex(Encoding.ASCII.GetBytes(hex), bigEndian);

    [Fact]
    public void Ipv4_metadata_address_and_port_are_decoded()
    {
        var s = Hex("02000050A9FEA9FE0000000000000000");
        Assert.Equal(SockAddrFamily.Inet, s.Family);
        Assert.Equal(IPAddress.Parse("169.254.169.254"), s.Address);
        Assert.Equal(80, s.Port);
    }

    [Fact]
    public void Ipv6_address_with_port_and_scope_is_decoded()
    {
        var s = Hex("0A00005000000000FD000EC200000000000000000000025402000000");
        Assert.Equal(SockAddrFamily.Inet6, s.Family);
        Assert.Equal(new IPAddress(IPAddress.Parse("fd00:ec2::254").GetAddressBytes(), 2), s.Address);
        Assert.Equal(2, s.Address!.ScopeId);
        Assert.Equal(80, s.Port);
    }

    [Fact]
    public void Ipv4_mapped_ipv6_is_kept_as_ipv6_for_the_catalog_to_fold()
    {
        var s = Hex("0A0000500000000000000000000000000000FFFFA9FEA9FE00000000");
        Assert.Equal(IPAddress.Parse("::ffff:169.254.169.254"), s.Address);
    }

    [Fact]
    public void Big_endian_family_field_is_read_on_big_endian_arches()
    {
        var s = Hex("0002D903000000000000000000000000", bigEndian: true);
        Assert.Equal(SockAddrFamily.Inet, s.Family);
        Assert.Equal(55555, s.Port);
        Assert.Equal(IPAddress.Any, s.Address);
    }

    [Fact]
    public void Big_endian_family_is_recognised_when_the_arch_is_unknown()
    {
        Assert.Equal(SockAddrFamily.Inet, Hex("0002D903000000000000000000000000").Family);
    }

    [Fact]
    public void Unix_socket_path_stops_at_NUL_and_ignores_trailing_junk()
    {
        var s = Hex("01002F7661722F72756E2F6E7363642F736F636B65740000E0150783E07F00000A000000");
        Assert.Equal(SockAddrFamily.Unix, s.Family);
        Assert.Equal("/var/run/nscd/socket", s.UnixPath);
    }

    [Fact]
    public void Abstract_unix_socket_is_shown_with_at_sign()
    {
        Assert.Equal("@/tmp/.X11-unix/X0", Hex("0100" + Convert.ToHexString(Encoding.ASCII.GetBytes("\0/tmp/.X11-unix/X0"))).UnixPath);
    }

    [Theory]
    [InlineData("0200", "AF_INET saddr shorter than 8 bytes")]
    [InlineData("0A0000500000", "AF_INET6 saddr shorter than 24 bytes")]
    [InlineData("02", "saddr shorter than the family field")]
    [InlineData("0Z00", "saddr is not hex")]
    public void Short_or_broken_buffers_are_problems_not_crashes(string hex, string problem)
    {
        var s = Hex(hex);
        Assert.Null(s.Address);
        Assert.Equal(problem, s.Problem);
    }

    [Fact]
    public void Netlink_and_unspecified_families_carry_no_address()
    {
        Assert.Equal(SockAddrFamily.Netlink, Hex("100000000000000000000000").Family);
        Assert.Equal(SockAddrFamily.Unknown, Hex("00000000000000000000000000000000").Family);
    }

    [Fact]
    public void Any_ipv4_sockaddr_decodes_to_what_IPAddress_says()
    {
        Gen.Select(Gen.UInt, Gen.UShort).Sample((address, port) =>
        {
            var b = new byte[16];
            BinaryPrimitives.WriteUInt16LittleEndian(b, 2);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), port);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), address);
            var s = SockAddr.DecodeHex(Encoding.ASCII.GetBytes(Convert.ToHexString(b)), bigEndian: false);
            return s.Address!.Equals(new IPAddress(b.AsSpan(4, 4))) && s.Port == port;
        });
    }

    [Fact]
    public void Any_ipv6_sockaddr_decodes_to_what_IPAddress_says()
    {
        Gen.Select(Gen.Byte.Array[16], Gen.UShort).Sample((address, port) =>
        {
            var b = new byte[28];
            BinaryPrimitives.WriteUInt16LittleEndian(b, 10);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), port);
            address.CopyTo(b, 8);
            var s = SockAddr.DecodeHex(Encoding.ASCII.GetBytes(Convert.ToHexString(b)), bigEndian: false);
            return s.Address!.Equals(new IPAddress(address)) && s.Port == port;
        });
    }

    [Fact]
    public void Random_hex_never_throws()
    {
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            _ = SockAddr.DecodeHex(Encoding.ASCII.GetBytes(Convert.ToHexString(bytes)));
            _ = SockAddr.FromBytes(bytes);
        });
    }
}
