using System.Text;
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
}
