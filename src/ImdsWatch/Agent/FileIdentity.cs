using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Agent;

/// <summary>
/// Which file a followed path is: its inode, and a fingerprint (SHA-256) of its first bytes. A rename rotation keeps
/// the inode under a new name; a copytruncate keeps the inode and changes the first bytes; a reused inode number is
/// told apart by the fingerprint.
/// </summary>
public sealed record FileIdentity(ulong Inode, int FingerprintLength, string Fingerprint)
{
    /// <summary>How many first bytes are fingerprinted (fewer while the file is shorter).</summary>
    public const int FingerprintBytes = 256;

    /// <summary>The identity of an open file, or null when it cannot be read.</summary>
    public static FileIdentity? Of(SafeFileHandle handle)
    {
        if (FileStat.InodeOf(handle) is not { } inode)
            return null;
        var head = new byte[FingerprintBytes];
        var n = RandomAccess.Read(handle, head, 0);
        return new FileIdentity(inode, n, Hash(head.AsSpan(0, n)));
    }

    /// <summary>True when <paramref name="handle"/>'s first bytes are still the fingerprinted ones.</summary>
    public bool SameStart(SafeFileHandle handle)
    {
        if (FingerprintLength == 0)
            return true;
        var head = new byte[FingerprintLength];
        var n = RandomAccess.Read(handle, head, 0);
        return n == FingerprintLength && Hash(head) == Fingerprint;
    }

    private static string Hash(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>stat(2) and fstat(2) for the inode number .NET does not expose.</summary>
internal static partial class FileStat
{
    // struct stat of Linux x86-64 and arm64 (glibc and musl alike) begins with st_dev then st_ino, 8 bytes each.
    private const int StatSize = 256;
    private const int InodeOffset = 8;

    public static ulong? InodeOf(string path)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        var buffer = new byte[StatSize];
        return Stat(path, buffer) == 0 ? BitConverter.ToUInt64(buffer, InodeOffset) : null;
    }

    public static ulong? InodeOf(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        var buffer = new byte[StatSize];
        return FStat((int)handle.DangerousGetHandle(), buffer) == 0 ? BitConverter.ToUInt64(buffer, InodeOffset) : null;
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Stat(string path, byte[] buffer);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int FStat(int fd, byte[] buffer);
}
