using System.Buffers.Binary;
using System.IO.Compression;

namespace ImdsWatch.Sources.Input;

/// <summary>
/// A gzip file read to its end, checked to be whole. .NET's decompressor reports the end of a cut-off file as an
/// ordinary end of data, so a truncated <c>audit.log.1.gz</c> would read as a shorter log, without a word. At the end
/// this compares the bytes read with the size gzip records in the file's last four bytes (ISIZE, modulo 2^32); a
/// file of several gzip members (<c>cat a.gz b.gz</c>) records only the last one's, so there the check is left out.
/// Damaged compressed data is reported as such, in words a user can act on.
/// </summary>
internal sealed class GzipEndCheck(Stream compressed, string? path) : Stream
{
    private readonly GZipStream _inner = new(compressed, CompressionMode.Decompress);
    private long _read;
    private bool _checked;

    /// <summary>
    /// Throw at the end of a file that ends early (line readers: an input error naming the line). A reader that holds
    /// unparsed data at the end (CloudTrail's JSON) turns this off and asks <see cref="EndedEarly"/> afterwards.
    /// </summary>
    public bool ThrowAtEnd { get; set; } = true;

    public bool EndedEarly { get; private set; }

    public const string EndedEarlyReason = "the gzip file ends early (truncated or damaged): what came before was read";

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = _inner.Read(buffer);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"damaged gzip data ({e.Message.TrimEnd('.')})", e);
        }
        _read += n;
        if (n == 0 && buffer.Length > 0 && !_checked)
        {
            _checked = true;
            if (path is not null && !IsWhole(path, _read))
            {
                EndedEarly = true;
                if (ThrowAtEnd)
                    throw new InvalidDataException(EndedEarlyReason);
            }
        }
        return n;
    }

    /// <summary>True when the recorded size matches, or when the file has more than one member and cannot be told.</summary>
    internal static bool IsWhole(string path, long decompressed)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (file.Length < 18)
            return false; // a header and a trailer do not fit
        Span<byte> trailer = stackalloc byte[4];
        file.Seek(-4, SeekOrigin.End);
        file.ReadExactly(trailer);
        if (BinaryPrimitives.ReadUInt32LittleEndian(trailer) == (uint)decompressed)
            return true;
        return HasSecondMember(file);
    }

    private static bool HasSecondMember(FileStream file)
    {
        // Another member starts with 1f 8b 08 (deflate); compressed data may hold those bytes by chance, which only
        // leaves the check out, never raises a false alarm.
        file.Seek(10, SeekOrigin.Begin);
        var buffer = new byte[1 << 16];
        var carry = 0;
        int n;
        while ((n = file.Read(buffer, carry, buffer.Length - carry)) > 0)
        {
            var span = buffer.AsSpan(0, carry + n);
            if (span.IndexOf([(byte)0x1f, (byte)0x8b, (byte)0x08]) >= 0)
                return true;
            span[^2..].CopyTo(buffer);
            carry = 2;
        }
        return false;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _inner.Dispose();
        base.Dispose(disposing);
    }
}
