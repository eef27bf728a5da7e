using System.IO.Compression;
using System.Security.Cryptography;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Runner;

/// <summary>
/// A file told by its content, as Filebeat and Vector do: the SHA-256 of its first <see cref="Length"/> bytes
/// (uncompressed, so audit.log.1.gz is the audit.log it was). An inode alone lies: a new audit.log can reuse the
/// inode of the one auditd just deleted, and a copy (copytruncate, compression) has a new one.
/// </summary>
public readonly record struct FileFingerprint(string Hash, int Length)
{
    /// <summary>Audit records start with a time stamp and serial: 1 KiB tells any two logs apart.</summary>
    public const int Bytes = 1024;

    /// <summary>The fingerprint of the first <paramref name="length"/> bytes (fewer when the file is shorter).</summary>
    public static FileFingerprint Of(string path, int length = Bytes)
    {
        var head = Head(path, length);
        return new FileFingerprint(Convert.ToHexString(SHA256.HashData(head)), head.Length);
    }

    /// <summary>True when the file starts with the bytes this fingerprint was taken of.</summary>
    public bool Matches(string path)
    {
        var head = Head(path, Length);
        return head.Length == Length && Convert.ToHexString(SHA256.HashData(head)) == Hash;
    }

    private static byte[] Head(string path, int length)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096);
            Span<byte> magic = stackalloc byte[2];
            var n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            using Stream content = InputSource.IsGzip(magic[..n]) ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
            var buffer = new byte[length];
            return buffer[..content.ReadAtLeast(buffer, length, throwOnEndOfStream: false)];
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or UnauthorizedAccessException)
        {
            return []; // a damaged or half-written .gz, or a file gone since it was listed, matches nothing
        }
    }
}
