namespace ImdsWatch.Detection;

/// <summary>Shell-style wildcard match: '*' any run (across '/' only as "**"), '?' one character.</summary>
public static class Glob
{
    public static bool Matches(string pattern, string text) => Match(pattern.AsSpan(), text.AsSpan());

    private static bool Match(ReadOnlySpan<char> p, ReadOnlySpan<char> t)
    {
        while (p.Length > 0)
        {
            if (p[0] == '*')
            {
                var crossesSlash = p.Length > 1 && p[1] == '*';
                var rest = p[(crossesSlash ? 2 : 1)..];
                for (var i = 0; i <= t.Length; i++)
                {
                    if (Match(rest, t[i..]))
                        return true;
                    if (i < t.Length && t[i] == '/' && !crossesSlash)
                        return false;
                }
                return false;
            }
            if (t.Length == 0 || (p[0] != '?' && p[0] != t[0]) || (p[0] == '?' && t[0] == '/'))
                return false;
            p = p[1..];
            t = t[1..];
        }
        return t.Length == 0;
    }
}
