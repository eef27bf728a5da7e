using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Sources.Input;

/// <summary>
/// A .gz unpacked to a temporary file, so that the two-pass scan reads it as it reads a plain log: .NET's inflate
/// (zlib-ng) is faster than zcat, and the scan then takes the bytes at its own speed instead of the full parser's.
/// The file is in TMPDIR, readable by its owner only (logs hold secrets), and unlinked as soon as it is made, so
/// nothing is left behind, whatever ends the process; its space is freed when it is disposed.
/// <para>
/// Where TMPDIR has no room for it (the free space, less <see cref="Headroom"/>, is short of the size the gzip
/// records, or the disk fills while it is written) there is none: the caller reads the .gz with the full parser.
/// A gzip that ends early or is damaged is unpacked up to its last whole line before the damage, and says why
/// (<see cref="Damage"/>): what the full parser would have read of it.
/// </para>
/// </summary>
internal sealed class UnpackedGzip : IDisposable
{
    /// <summary>Room left free beyond the unpacked file: TMPDIR is shared.</summary>
    public const long Headroom = 64L << 20;

    private readonly FileStream _file;

    private UnpackedGzip(FileStream file, long length, string? damage)
    {
        _file = file;
        Length = length;
        Damage = damage;
    }

    /// <summary>The unpacked bytes, for positional reads.</summary>
    public SafeFileHandle Handle => _file.SafeFileHandle;

    public long Length { get; }

    /// <summary>Why the gzip could not be read to its end (null when it was); what came before was unpacked.</summary>
    public string? Damage { get; }

    /// <summary>The free bytes of the file system that holds <paramref name="directory"/>.</summary>
    public static long FreeSpace(string directory) => new DriveInfo(directory).AvailableFreeSpace;

    /// <summary>
    /// The gzip at <paramref name="path"/> unpacked into <paramref name="directory"/> (TMPDIR by default), or null
    /// with the reason in <paramref name="noRoom"/> when there is no room for it. <paramref name="freeSpace"/> tells
    /// the free bytes of a directory (tests make it small).
    /// </summary>
    public static UnpackedGzip? TryUnpack(string path, out string? noRoom, Func<string, long>? freeSpace = null, string? directory = null)
    {
        directory ??= Path.GetTempPath();
        var needed = EstimatedSize(path);
        var free = (freeSpace ?? FreeSpace)(directory);
        if (free - Headroom < needed)
        {
            noRoom = $"no room to unpack it in {directory} ({Megabytes(needed)} needed, {Megabytes(Math.Max(0, free))} free)";
            return null;
        }
        var file = CreateUnlinked(directory);
        try
        {
            var (length, damage) = Unpack(path, file.SafeFileHandle);
            noRoom = null;
            return new UnpackedGzip(file, length, damage);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            file.Dispose(); // unlinked already: closing frees its space
            noRoom = $"no room to unpack it in {directory} (the disk filled up)";
            return null;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>
    /// The size gzip records in its trailer (ISIZE, modulo 2^32, of the last member only): a log compresses well, so a
    /// size below four times the compressed one means more than 4 GB or several members, and that is assumed instead.
    /// </summary>
    internal static long EstimatedSize(string path)
    {
        using var f = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var compressed = RandomAccess.GetLength(f);
        Span<byte> trailer = stackalloc byte[4];
        long recorded = compressed >= 18 && PositionalRead.Fill(f, trailer, compressed - 4) == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(trailer) : 0;
        return Math.Max(recorded, compressed * 4);
    }

    private static FileStream CreateUnlinked(string directory)
    {
        var path = Path.Combine(directory, $"imdswatch-gz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.Read,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var file = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
            File.Delete(path); // the open handle keeps the data; the name goes now, so no crash can leave it behind
        return file;
    }

    /// <summary>Unpacks into <paramref name="into"/>; on damage, cuts it at the last whole line and says why.</summary>
    private static (long Length, string? Damage) Unpack(string path, SafeFileHandle into)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        long written = 0;
        long wholeLines = 0;
        try
        {
            using var compressed = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
            using var gzip = new GzipEndCheck(compressed, path);
            int n;
            while ((n = gzip.Read(buffer)) > 0)
            {
                RandomAccess.Write(into, buffer.AsSpan(0, n), written);
                var newline = buffer.AsSpan(0, n).LastIndexOf((byte)'\n');
                if (newline >= 0)
                    wholeLines = written + newline + 1;
                written += n;
            }
            return (written, null);
        }
        catch (InvalidDataException e)
        {
            // The full parser reads the whole lines before the damage and drops the line it was in: so does the scan.
            RandomAccess.SetLength(into, wholeLines);
            return (wholeLines, e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>ENOSPC (28) or EDQUOT (122) on Linux, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    private static bool IsDiskFull(IOException e) =>
        e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    private static string Megabytes(long bytes) => $"{bytes / (1024.0 * 1024):N0} MB";
}
