namespace ImdsWatch.Config;

/// <summary>The valid name nearest to a mistyped one, for "did you mean …?" in messages.</summary>
public static class ClosestName
{
    /// <summary>The nearest of <paramref name="valid"/> within an edit distance of a third of the name (at least 2); null when none is.</summary>
    public static string? Of(string name, IEnumerable<string> valid)
    {
        var best = valid.Select(v => (Name: v, Distance: Distance(name, v))).OrderBy(x => x.Distance).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, name.Length / 3) ? best.Name : null;
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
