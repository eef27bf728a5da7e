using System.Runtime.InteropServices;

namespace ImdsWatch.Sources.Auditd.Prefilter;

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

    /// <summary>True where advice can give huge pages: Linux with transparent huge pages "always" or "madvise".</summary>
    public static bool IsAvailable { get; } = OperatingSystem.IsLinux() && ReadMode() is "always" or "madvise";

    private static string? ReadMode()
    {
        try
        {
            return SelectedMode(File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The bracketed choice of a sysfs setting: "always [madvise] never" is madvise.</summary>
    internal static string? SelectedMode(string setting)
    {
        var open = setting.IndexOf('[', StringComparison.Ordinal);
        var close = open < 0 ? -1 : setting.IndexOf(']', open);
        return close < 0 ? null : setting[(open + 1)..close];
    }

    /// <summary>
    /// Advises for huge pages the run of adjacent anonymous mappings around <paramref name="address"/> (read from
    /// /proc/self/maps): memory reserved in one piece and committed in parts, such as the GC heap, is split into
    /// many mappings of one run. Returns the bytes advised; 0 off Linux or when the maps cannot be read.
    /// </summary>
    public static long AdviseAnonymousRunAround(nint address)
    {
        if (!OperatingSystem.IsLinux())
            return 0;
        string[] maps;
        try
        {
            maps = File.ReadAllLines("/proc/self/maps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        if (AnonymousRunAround(maps, (ulong)address) is not var (start, end))
            return 0;
        return Madvise((nint)start, (nuint)(end - start), MadvHugePage) == 0 ? (long)(end - start) : 0;
    }

    /// <summary>[start, end) of the adjacent unnamed mappings (no file, no [heap] or [stack]) that hold <paramref name="address"/>.</summary>
    internal static (ulong Start, ulong End)? AnonymousRunAround(IReadOnlyList<string> maps, ulong address)
    {
        var ranges = new List<(ulong Start, ulong End, bool Anonymous)>(maps.Count);
        foreach (var line in maps)
        {
            // 7f0c2a000000-7f0c2a400000 rw-p 00000000 00:00 0    [path]
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            var dash = fields.Length > 0 ? fields[0].IndexOf('-', StringComparison.Ordinal) : -1;
            if (dash < 0
                || !ulong.TryParse(fields[0].AsSpan(0, dash), System.Globalization.NumberStyles.HexNumber, null, out var start)
                || !ulong.TryParse(fields[0].AsSpan(dash + 1), System.Globalization.NumberStyles.HexNumber, null, out var end))
                continue;
            ranges.Add((start, end, fields.Length == 5 || (fields.Length == 6 && string.IsNullOrWhiteSpace(fields[5]))));
        }
        var at = ranges.FindIndex(r => r.Start <= address && address < r.End);
        if (at < 0 || !ranges[at].Anonymous)
            return null;
        var first = at;
        var last = at;
        while (first > 0 && ranges[first - 1].Anonymous && ranges[first - 1].End == ranges[first].Start)
            first--;
        while (last + 1 < ranges.Count && ranges[last + 1].Anonymous && ranges[last + 1].Start == ranges[last].End)
            last++;
        return (ranges[first].Start, ranges[last].End);
    }

    // Linux, the same on x86-64 and arm64.
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20, MadvHugePage = 14;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
