namespace ImdsWatch.Sources.Input;

/// <summary>A read-only stream that can look at its first bytes without consuming them.</summary>
internal sealed class PeekableStream(Stream inner) : Stream
{
    private byte[] _peeked = [];
    private int _offset;

    public int Peek(Span<byte> destination)
    {
        var buffer = new byte[destination.Length];
        var n = inner.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        _peeked = buffer[..n];
        _offset = 0;
        _peeked.AsSpan().CopyTo(destination);
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_offset < _peeked.Length)
        {
            var n = Math.Min(buffer.Length, _peeked.Length - _offset);
            _peeked.AsSpan(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }
        return inner.Read(buffer);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
