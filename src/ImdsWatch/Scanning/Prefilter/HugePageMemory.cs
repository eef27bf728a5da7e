using System.Runtime.InteropServices;

namespace ImdsWatch.Scanning.Prefilter;

/// <summary>Anonymous memory the kernel may back with transparent huge pages (Linux: mmap, then MADV_HUGEPAGE).</summary>
internal static partial class HugePageMemory
{
    private const long HugePage = 2 << 20;

    /// <summary>
    /// A zeroed mapping of at least <paramref name="bytes"/> from a 2 MB-aligned address inside it, advised for huge
    /// pages; 0 off Linux or when mmap fails. Unmap <paramref name="mapping"/> with <paramref name="mappingLength"/>.
    /// </summary>
    public static nint Map(long bytes, out nint mapping, out nuint mappingLength)
    {
        mapping = 0;
        mappingLength = 0;
        if (!OperatingSystem.IsLinux())
            return 0;
        var rounded = (bytes + HugePage - 1) & ~(HugePage - 1);
        mappingLength = (nuint)(rounded + HugePage);
        mapping = Mmap(0, mappingLength, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (mapping == -1)
        {
            mapping = 0;
            return 0;
        }
        var aligned = (nint)(((long)mapping + HugePage - 1) & ~(HugePage - 1));
        _ = Madvise(aligned, (nuint)rounded, MadvHugePage); // advice only: without THP the pages are 4 KB, as before
        return aligned;
    }

    public static void Unmap(nint mapping, nuint mappingLength) => _ = Munmap(mapping, mappingLength);

    // Linux, the same on x86-64 and arm64.
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20, MadvHugePage = 14;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
