using System.Globalization;
using System.Text;

namespace ImdsWatch.Export;

/// <summary>
/// Writes Sigma rules as SigmaHQ lays them out: fields in the convention's order, 4-space indentation, a
/// single-item list on the key's line, strings single-quoted. Written by hand so the text is stable to the byte.
/// </summary>
internal static class SigmaYaml
{
    public const string Author = "imdswatch (generated from its catalogs)";
    public const string Date = "2026-11-30";
    public static readonly string[] Tags = ["attack.credential-access", "attack.t1552.005"];

    public static string Write(SigmaRule rule)
    {
        var y = new StringBuilder();
        Comments(y, rule.Limits);
        y.Append("title: ").AppendLine(rule.Title);
        y.Append("id: ").AppendLine(StableId.For(rule.FileName));
        if (rule.Name is not null)
            y.Append("name: ").AppendLine(rule.Name);
        Header(y, rule.Description, rule.References);
        List(y, 0, "tags", [.. Tags, .. rule.ExtraTags], quote: false);
        y.AppendLine("logsource:");
        if (rule.LogSource.Category is { } c) y.Append("    category: ").AppendLine(c);
        if (rule.LogSource.Product is { } p) y.Append("    product: ").AppendLine(p);
        if (rule.LogSource.Service is { } s) y.Append("    service: ").AppendLine(s);
        y.AppendLine("detection:");
        foreach (var search in rule.Searches)
        {
            if (search.Keywords.Count > 0)
            {
                List(y, 1, search.Name, search.Keywords, quote: true, inline: true);
                continue;
            }
            y.Append("    ").Append(search.Name).AppendLine(":");
            foreach (var f in search.Fields)
                List(y, 2, f.Field, f.Values, quote: true, inline: true);
        }
        y.Append("    condition: ").AppendLine(rule.Condition);
        if (rule.Fields.Count > 0)
            List(y, 0, "fields", rule.Fields, quote: false);
        List(y, 0, "falsepositives", rule.FalsePositives, quote: false);
        y.Append("level: ").AppendLine(rule.Level);
        return y.ToString();
    }

    public static string Write(SigmaCorrelation rule)
    {
        var y = new StringBuilder();
        Comments(y, rule.Limits);
        y.Append("title: ").AppendLine(rule.Title);
        y.Append("id: ").AppendLine(StableId.For(rule.FileName));
        Header(y, rule.Description, []);
        y.AppendLine("correlation:");
        y.Append("    type: ").AppendLine(rule.Type);
        List(y, 1, "rules", rule.Rules, quote: false);
        if (rule.Aliases.Count > 0)
        {
            y.AppendLine("    aliases:");
            foreach (var (alias, fields) in rule.Aliases)
            {
                y.Append("        ").Append(alias).AppendLine(":");
                foreach (var (r, f) in fields)
                    y.Append("            ").Append(r).Append(": ").AppendLine(f);
            }
        }
        List(y, 1, "group-by", rule.GroupBy, quote: false);
        y.Append("    timespan: ").AppendLine(rule.Timespan);
        if (rule.Condition.Count > 0)
        {
            y.AppendLine("    condition:");
            foreach (var (k, v) in rule.Condition)
                y.Append("        ").Append(k).Append(": ").AppendLine(Scalar(v, quote: false));
        }
        List(y, 0, "falsepositives", rule.FalsePositives, quote: false);
        y.Append("level: ").AppendLine(rule.Level);
        return y.ToString();
    }

    private static void Comments(StringBuilder y, IReadOnlyList<string> lines)
    {
        foreach (var line in lines)
            y.Append("# ").AppendLine(line);
    }

    private static void Header(StringBuilder y, string description, IReadOnlyList<string> references)
    {
        y.AppendLine("status: experimental");
        y.AppendLine("description: |");
        foreach (var line in description.Split('\n'))
            y.Append("    ").AppendLine(line);
        if (references.Count > 0)
            List(y, 0, "references", references, quote: false);
        y.Append("author: ").AppendLine(Author);
        y.Append("date: ").AppendLine(Date);
    }

    /// <summary>A list; <paramref name="inline"/> puts a single value on the key's line (SigmaHQ's form for detection
    /// values, which Sigma reads as a one-item list; elsewhere a scalar would not be a list).</summary>
    private static void List<T>(StringBuilder y, int depth, string key, IReadOnlyList<T> values, bool quote, bool inline = false)
    {
        var indent = new string(' ', 4 * depth);
        y.Append(indent).Append(key).Append(':');
        if (inline && values.Count == 1)
        {
            y.Append(' ').AppendLine(Scalar(values[0]!, quote));
            return;
        }
        y.AppendLine();
        foreach (var v in values)
            y.Append(indent).Append("    - ").AppendLine(Scalar(v!, quote));
    }

    private static string Scalar(object value, bool quote) => value switch
    {
        int i => i.ToString(CultureInfo.InvariantCulture),
        string s when quote || NeedsQuotes(s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        string s => s,
        _ => throw new ArgumentException($"no YAML scalar for {value.GetType().Name}", nameof(value)),
    };

    private static bool NeedsQuotes(string s) =>
        s.Length == 0 || s.IndexOfAny([':', '#', '\'', '"', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '%', '@', '`']) >= 0
        || char.IsWhiteSpace(s[0]) || s[0] is '-' or '?';

    /// <summary>A literal as a Sigma value: the wildcards and the escape character escaped.</summary>
    public static string Literal(string text) =>
        text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("*", @"\*", StringComparison.Ordinal).Replace("?", @"\?", StringComparison.Ordinal);

    /// <summary>A catalog glob (<c>*</c> within a segment, <c>**</c> across) as a Sigma value, whose <c>*</c> spans any text.</summary>
    public static string Glob(string glob) =>
        string.Join('*', glob.Replace("**", "*", StringComparison.Ordinal).Split('*').Select(Literal));
}
