namespace ImdsWatch.Sources.Input;

/// <summary>
/// A file stream whose end is checked with <see cref="ReadIntegrity"/>: when the file was cut short or rewritten
/// while it was read, the end is an <see cref="IOException"/> saying so (a line reader reports it as the input's
/// damage, with the line reached) instead of a quiet early end.
/// </summary>
internal sealed class TruncationCheckedStream(FileStream file) : Stream
{
    private readonly ReadIntegrity _integrity = ReadIntegrity.Take(file.SafeFileHandle);
    private bool _checked;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => file.Length;

    public override long Position
    {
        get => file.Position;
        set => file.Position = value;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = file.Read(buffer);
        if (n == 0 && buffer.Length > 0 && !_checked)
        {
            _checked = true;
            if (_integrity.Check(file.Position) is { } damage)
                throw new IOException(damage);
        }
        return n;
    }

    public override long Seek(long offset, SeekOrigin origin) => file.Seek(offset, origin);

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            file.Dispose();
        base.Dispose(disposing);
    }
}
