using ImdsWatch.Sources.Input;
using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>The bytes of kept runs, read through a window: runs kept near each other cost one read.</summary>
internal sealed class KeptRunReader(SafeFileHandle file)
{
    private const int MinimumRead = 16 * 1024;
    private byte[] _window = new byte[MinimumRead];
    private long _windowStart = -1;
    private int _windowLength;

    public ReadOnlySpan<byte> Bytes(long offset, int length)
    {
        if (_windowStart < 0 || offset < _windowStart || offset + length > _windowStart + _windowLength)
        {
            if (_window.Length < length)
                _window = new byte[Math.Max(length, _window.Length * 2)];
            _windowStart = offset;
            _windowLength = PositionalRead.Fill(file, _window.AsSpan(0, Math.Max(length, MinimumRead)), offset);
        }
        var at = (int)(offset - _windowStart);
        return at >= _windowLength ? default : _window.AsSpan(at, Math.Min(length, _windowLength - at)); // cut short meanwhile
    }
}
