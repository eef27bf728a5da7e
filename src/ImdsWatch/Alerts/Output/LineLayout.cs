using System.Globalization;
using System.Text;

namespace ImdsWatch.Alerts.Output;

/// <summary>
/// Columns of one-line rows fitted to a terminal's width: each column as wide as its widest value when that fits,
/// otherwise the widest columns give up characters first (down to their minimum) and their values end in "…".
/// Widths are terminal cells (a CJK character takes two), so no line is ever longer than the width.
/// </summary>
public sealed class LineLayout
{
    private readonly int[] _widths;
    private readonly string _gap;

    private LineLayout(int[] widths, string gap)
    {
        _widths = widths;
        _gap = gap;
    }

    public IReadOnlyList<int> Widths => _widths;

    /// <summary>What separates two columns: two spaces from 100 columns up, else one.</summary>
    public string Gap => _gap;

    /// <summary>
    /// Widths for <paramref name="rows"/> (header first) under <paramref name="width"/> cells, with a column's
    /// values never cut below <paramref name="minimums"/> unless even the minimums do not fit (then the line is cut).
    /// A column with a larger weight keeps more of its width (the one whose width over its weight is largest gives
    /// up a cell first).
    /// </summary>
    public static LineLayout Fit(IReadOnlyList<IReadOnlyList<string>> rows, IReadOnlyList<int> minimums, int width, IReadOnlyList<double>? weights = null)
    {
        var gap = width >= 100 ? "  " : " ";
        var columns = minimums.Count;
        var widths = new int[columns];
        foreach (var row in rows)
            for (var c = 0; c < columns; c++)
                widths[c] = Math.Max(widths[c], Cells(row[c]));
        var room = width - gap.Length * (columns - 1);
        while (widths.Sum() > room)
        {
            // The widest column (for its weight) that can still give up a cell does.
            var widest = -1;
            for (var c = 0; c < columns; c++)
                if (widths[c] > minimums[c] && (widest < 0 || widths[c] / Weight(c) > widths[widest] / Weight(widest)))
                    widest = c;
            if (widest < 0)
                break;
            widths[widest]--;
        }
        return new LineLayout(widths, gap);

        double Weight(int c) => weights?[c] ?? 1.0;
    }

    /// <summary>One row's cells, each cut or padded to its column, joined; the last column is not padded.</summary>
    public IReadOnlyList<string> Cells(IReadOnlyList<string> row)
    {
        var cells = new string[_widths.Length];
        for (var c = 0; c < _widths.Length; c++)
            cells[c] = Pad(Cut(row[c], _widths[c]), c == _widths.Length - 1 ? 0 : _widths[c]);
        return cells;
    }

    /// <summary>The text in at most <paramref name="width"/> cells, ending in "…" when it was cut.</summary>
    public static string Cut(string text, int width)
    {
        if (Cells(text) <= width)
            return text;
        if (width <= 0)
            return "";
        var sb = new StringBuilder();
        var used = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            var w = Cells(rune);
            if (used + w > width - 1)
                break;
            sb.Append(rune.ToString());
            used += w;
        }
        return sb.Append('…').ToString();
    }

    /// <summary>The width of the text in terminal cells (as wcwidth: East Asian wide two, combining marks none).</summary>
    public static int Cells(string text)
    {
        var cells = 0;
        foreach (var rune in text.EnumerateRunes())
            cells += Cells(rune);
        return cells;
    }

    private static int Cells(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format)
            return 0;
        var v = rune.Value;
        return v is >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0x303E or >= 0x3041 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3
            or >= 0xF900 and <= 0xFAFF or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6
            or >= 0x1F300 and <= 0x1F64F or >= 0x1F900 and <= 0x1F9FF or >= 0x20000 and <= 0x3FFFD ? 2 : 1;
    }

    private static string Pad(string text, int width) => text + new string(' ', Math.Max(0, width - Cells(text)));
}
