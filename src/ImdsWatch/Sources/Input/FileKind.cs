using System.Runtime.InteropServices;

namespace ImdsWatch.Sources.Input;

/// <summary>
/// What a path names, after symbolic links: only regular files are logs. A FIFO blocks its reader until a writer
/// comes, and a character device (<c>/dev/zero</c>, <c>/dev/urandom</c>) never ends; neither can be read twice, as
/// format detection and the scan do. Asked with statx(2), whose layout is the same on every Linux architecture.
/// </summary>
internal static partial class FileKind
{
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode
    private const int TypeMask = 0xF000;

    /// <summary>Null for a regular file (or when the system cannot tell), else what it is, in words for a message.</summary>
    public static string? NotRegular(string path)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        Span<byte> buffer = stackalloc byte[256];
        buffer.Clear();
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, ref MemoryMarshal.GetReference(buffer)) != 0)
                return null; // gone or unreadable: opening it says why
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // a libc without statx (glibc < 2.28)
        }
        return (BitConverter.ToUInt16(buffer[ModeOffset..]) & TypeMask) switch
        {
            0x8000 => null,
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            0x4000 => "a directory",
            _ => "not a regular file",
        };
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, ref byte buffer);
}
