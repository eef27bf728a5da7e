using System.Buffers;
using System.Globalization;
using System.Text;

namespace ImdsWatch.Alerts.Output;

/// <summary>
/// Text from logs is attacker-controlled: any local user puts a line into syslog with <c>logger</c>, and every
/// command line lands in the audit log. Before it reaches a person's terminal (the table, <c>alerts show</c>,
/// issue lines on stderr) every C0 and C1 control, DEL, and the bidirectional overrides that reorder what is
/// shown are written as visible escapes (<c>\x1B</c>, <c>\n</c>, <c>\u202E</c>): an ESC can no longer start an
/// ANSI sequence (window title, clear screen, colours), a CR or LF can no longer forge a line of our output.
/// </summary>
public static class TerminalText
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c),
            '\u061C', '\u200E', '\u200F', .. Enumerable.Range(0x202A, 5).Select(c => (char)c), .. Enumerable.Range(0x2066, 4).Select(c => (char)c)]);

    /// <summary>The text with every control written as an escape; the same instance when there is none.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return text ?? "";
        var first = text.AsSpan().IndexOfAny(Unsafe);
        if (first < 0)
            return text;
        var sb = new StringBuilder(text.Length + 16);
        sb.Append(text, 0, first);
        foreach (var c in text.AsSpan(first))
        {
            if (!Unsafe.Contains(c))
            {
                sb.Append(c);
                continue;
            }
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < '\u0100' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
            });
        }
        return sb.ToString();
    }
}
