using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Sources.Input;

/// <summary>Reads at an offset until the span is full or the file ends (a file cut short meanwhile reads short).</summary>
public static class PositionalRead
{
    public static int Fill(SafeFileHandle file, Span<byte> into, long offset)
    {
        var total = 0;
        while (total < into.Length)
        {
            var n = RandomAccess.Read(file, into[total..], offset + total);
            if (n == 0)
                break;
            total += n;
        }
        return total;
    }
}
