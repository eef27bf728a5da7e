using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Syscall numbers of the calls the detection reads, per audit arch (AUDIT_ARCH_* from
/// include/uapi/linux/audit.h). Others are shown by number.
/// </summary>
public static class SyscallTable
{
    /// <summary>AUDIT_ARCH_X86_64.</summary>
    public const uint ArchX64 = 0xc000003e;
    public const uint ArchI386 = 0x40000003;
    public const uint ArchAarch64 = 0xc00000b7;
    /// <summary>AUDIT_ARCH_ARM: 32-bit ARM, little-endian (the kernel's big-endian ARMEB is 0x00000028).</summary>
    public const uint ArchArm = 0x40000028;
    public const uint ArchPpc64 = 0x80000015;
    public const uint ArchPpc64Le = 0xc0000015;
    public const uint ArchS390x = 0x80000016;
    public const uint ArchRiscv64 = 0xc00000f3;

    private const uint LittleEndianBit = 0x40000000;

    private static readonly Dictionary<uint, Dictionary<int, string>> Tables = new()
    {
        [ArchX64] = new() { [42] = "connect", [44] = "sendto", [46] = "sendmsg", [49] = "bind", [59] = "execve", [307] = "sendmmsg", [322] = "execveat", [426] = "io_uring_enter" },
        [ArchI386] = new() { [11] = "execve", [102] = "socketcall", [358] = "execveat", [362] = "connect", [361] = "bind", [369] = "sendto", [370] = "sendmsg", [345] = "sendmmsg" },
        [ArchAarch64] = new() { [200] = "bind", [203] = "connect", [206] = "sendto", [211] = "sendmsg", [221] = "execve", [269] = "sendmmsg", [281] = "execveat" },
        [ArchArm] = new() { [11] = "execve", [282] = "bind", [283] = "connect", [290] = "sendto", [296] = "sendmsg", [374] = "sendmmsg", [387] = "execveat" },
        [ArchPpc64] = new() { [11] = "execve", [102] = "socketcall", [327] = "bind", [328] = "connect", [335] = "sendto", [341] = "sendmsg", [349] = "sendmmsg", [362] = "execveat" },
        [ArchS390x] = new() { [11] = "execve", [102] = "socketcall", [361] = "bind", [362] = "connect", [369] = "sendto", [370] = "sendmsg", [358] = "sendmmsg", [354] = "execveat" },
        [ArchRiscv64] = new() { [200] = "bind", [203] = "connect", [206] = "sendto", [211] = "sendmsg", [221] = "execve", [269] = "sendmmsg", [281] = "execveat" },
    };

    static SyscallTable() => Tables[ArchPpc64Le] = Tables[ArchPpc64];

    public static string? Name(uint arch, int number) =>
        Tables.TryGetValue(arch, out var table) && table.TryGetValue(number, out var name) ? name : null;

    public static bool IsBigEndian(uint arch) => (arch & LittleEndianBit) == 0;

    public static bool IsExec(string? name) => name is "execve" or "execveat";

    /// <summary><see cref="IsExec(string?)"/> of a name as the log spells it (ENRICHED: SYSCALL=execve).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool IsExec(ReadOnlySpan<byte> name) => name.SequenceEqual("execve"u8) || name.SequenceEqual("execveat"u8);

    /// <summary><see cref="IsOutbound(string?)"/> of a name as the log spells it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool IsOutbound(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("connect"u8) || name.SequenceEqual("sendto"u8) || name.SequenceEqual("sendmsg"u8)
        || name.SequenceEqual("sendmmsg"u8) || name.SequenceEqual("socketcall"u8) || name.SequenceEqual("io_uring_enter"u8);

    /// <summary>Calls that hand the kernel a destination address (the SOCKADDR record is that address).</summary>
    public static bool IsOutbound(string? name) => name is "connect" or "sendto" or "sendmsg" or "sendmmsg" or "socketcall" or "io_uring_enter";
}
