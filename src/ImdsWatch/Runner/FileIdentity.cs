using System.Runtime.InteropServices;

namespace ImdsWatch.Runner;

/// <summary>The inode of a file: how a log is recognised after logrotate or auditd renames it.</summary>
public static partial class FileIdentity
{
    /// <summary>st_ino sits at byte 8 of struct stat on x86_64 and on the generic layout (aarch64, riscv64).</summary>
    public static long Inode(string path)
    {
        var buffer = new byte[256];
        if (Stat(path, buffer) != 0)
            throw new IOException($"{path}: cannot stat (errno {Marshal.GetLastPInvokeError()})");
        return BitConverter.ToInt64(buffer, 8);
    }

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte[] buffer);
}
