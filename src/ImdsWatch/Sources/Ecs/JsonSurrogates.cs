using System.Globalization;
using System.Text;

namespace ImdsWatch.Sources.Ecs;

/// <summary>
/// JSON may escape half a UTF-16 pair (<c>"\ud800"</c>): valid JSON syntax, but no string — System.Text.Json throws
/// when such a value is read. Writers that copy raw bytes from a command line produce them; the value is kept with
/// U+FFFD in place of the lone half, as a decoder of invalid UTF-8 would.
/// </summary>
internal static class JsonSurrogates
{
    /// <summary>The text with every unpaired surrogate escape replaced by <c>\ufffd</c> (the same text when there is none).</summary>
    public static string Repair(string json)
    {
        var result = new StringBuilder(json.Length);
        var i = 0;
        while (i < json.Length)
        {
            var c = json[i];
            if (c != '\\' || i + 1 >= json.Length)
            {
                result.Append(c);
                i++;
                continue;
            }
            if (json[i + 1] != 'u' || !TryHex(json, i + 2, out var unit))
            {
                result.Append(json, i, 2); // any other escape, \\ among them, is two characters
                i += 2;
                continue;
            }
            if (char.IsHighSurrogate((char)unit) && i + 12 <= json.Length && json[i + 6] == '\\' && json[i + 7] == 'u'
                && TryHex(json, i + 8, out var low) && char.IsLowSurrogate((char)low))
            {
                result.Append(json, i, 12);
                i += 12;
                continue;
            }
            result.Append(char.IsSurrogate((char)unit) ? "\\ufffd" : json.AsSpan(i, 6));
            i += 6;
        }
        return result.ToString();
    }

    private static bool TryHex(string s, int at, out int value)
    {
        value = 0;
        return at + 4 <= s.Length && int.TryParse(s.AsSpan(at, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
