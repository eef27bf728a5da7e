using System.Buffers;
using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Input;

/// <summary>
/// Reads a stream line by line into one pooled buffer; each line is a span valid until the next call.
/// A line longer than <see cref="MaxLineBytes"/> is skipped and reported, not fatal.
/// </summary>
public sealed class LineReader : IDisposable
{
    public const int MaxLineBytes = 16 * 1024 * 1024;

    /// <summary>What a skipped over-long line is reported as, by every reader of audit logs.</summary>
    public static readonly string LongLineIssue = $"line longer than {MaxLineBytes} bytes skipped";
    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;
    private bool _skippingLongLine;

    public LineReader(Stream stream, int bufferSize = 1 << 20, long firstLineNumber = 1)
    {
        _stream = stream;
        LineNumber = firstLineNumber - 1;
        _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    }

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

    public long BytesRead { get; private set; }

    /// <summary>Bytes up to and including the last newline returned: where the next read must start.</summary>
    public long BytesConsumedToLastNewline { get; private set; }

    /// <summary>The number of the last line that ended with a newline.</summary>
    public long LineNumberAtLastNewline { get; private set; }

    /// <summary>Lines over the length limit that were skipped; their numbers are in <see cref="SkippedLongLines"/>.</summary>
    public List<long> SkippedLongLines { get; } = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            var available = _buffer.AsSpan(_start, _end - _start);
            var newline = available.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var raw = available[..newline];
                _start += newline + 1;
                BytesConsumedToLastNewline = BytesRead - (_end - _start);
                LineNumber++;
                LineNumberAtLastNewline = LineNumber;
                if (_skippingLongLine)
                {
                    _skippingLongLine = false;
                    SkippedLongLines.Add(LineNumber);
                    continue;
                }
                line = raw.Length > 0 && raw[^1] == (byte)'\r' ? raw[..^1] : raw;
                return true;
            }
            if (_eof)
            {
                if (_end > _start && !_skippingLongLine)
                {
                    line = available;
                    _start = _end;
                    LineNumber++;
                    return true;
                }
                if (_skippingLongLine)
                {
                    _skippingLongLine = false;
                    LineNumber++;
                    SkippedLongLines.Add(LineNumber);
                }
                line = default;
                return false;
            }
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineBytes)
            {
                _skippingLongLine = true;
                _end = 0;
            }
            else
            {
                var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
        }
        var n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0)
            _eof = true;
        _end += n;
        BytesRead += n;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _stream.Dispose();
    }
}
