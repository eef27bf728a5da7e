using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace ImdsWatch.Tests.Export;

/// <summary>One log event as a SIEM holds it: its fields (each with one or more values) and its raw text for keywords.</summary>
internal sealed record SigmaEvent(IReadOnlyDictionary<string, List<string>> Fields, string Raw);

/// <summary>
/// An evaluator for exactly the Sigma subset the exporter emits, read back from the emitted YAML (not from the
/// exporter's model): keyword lists, field maps with contains / startswith / endswith / re / cidr / all, Sigma
/// wildcards and escapes, case-insensitive strings, and conditions with and / or / not / parentheses /
/// 1 of / all of. Anything else in a rule makes it throw, so the exporter cannot emit what this does not check.
/// </summary>
internal sealed class SigmaEvaluator
{
    private readonly Dictionary<string, Func<SigmaEvent, bool>> _searches = new(StringComparer.Ordinal);
    private readonly string _condition;

    public string Title { get; }
    public string FileName { get; }
    public string? Category { get; }
    public string? Product { get; }
    public string? Service { get; }

    private SigmaEvaluator(string fileName, YamlMappingNode root)
    {
        FileName = fileName;
        Title = Scalar(root, "title")!;
        var logsource = (YamlMappingNode)root.Children[new YamlScalarNode("logsource")];
        Category = Scalar(logsource, "category");
        Product = Scalar(logsource, "product");
        Service = Scalar(logsource, "service");
        var detection = (YamlMappingNode)root.Children[new YamlScalarNode("detection")];
        _condition = Scalar(detection, "condition") ?? throw new InvalidDataException($"{fileName}: no condition");
        foreach (var (key, value) in detection.Children)
        {
            var name = ((YamlScalarNode)key).Value!;
            if (name != "condition")
                _searches[name] = Search(fileName, value);
        }
    }

    public static SigmaEvaluator Parse(string fileName, string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return new SigmaEvaluator(fileName, (YamlMappingNode)stream.Documents[0].RootNode);
    }

    public bool Matches(SigmaEvent e)
    {
        var parser = new ConditionParser(Tokenize(_condition), _searches, e);
        var result = parser.Or();
        if (!parser.AtEnd)
            throw new InvalidDataException($"{FileName}: condition '{_condition}' has trailing tokens");
        return result;
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? ((YamlScalarNode)v).Value : null;

    private static Func<SigmaEvent, bool> Search(string file, YamlNode node)
    {
        switch (node)
        {
            case YamlSequenceNode list when list.Children.All(c => c is YamlScalarNode):
                var keywords = list.Children.Select(c => Wildcard(((YamlScalarNode)c).Value!, contains: true)).ToList();
                return e => keywords.Any(k => k.IsMatch(e.Raw));
            case YamlSequenceNode maps:
                var alternatives = maps.Children.Select(c => Search(file, c)).ToList();
                return e => alternatives.Any(a => a(e));
            case YamlMappingNode map:
                var fields = map.Children.Select(kv => FieldMatch(file, ((YamlScalarNode)kv.Key).Value!, kv.Value)).ToList();
                return e => fields.All(f => f(e));
            default:
                throw new InvalidDataException($"{file}: search of kind {node.NodeType} is outside the emitted subset");
        }
    }

    private static Func<SigmaEvent, bool> FieldMatch(string file, string key, YamlNode valueNode)
    {
        var parts = key.Split('|');
        var field = parts[0];
        var modifiers = parts.Skip(1).ToList();
        var all = modifiers.Remove("all");
        if (modifiers.Count > 1)
            throw new InvalidDataException($"{file}: modifiers {key} are outside the emitted subset");
        var values = valueNode is YamlSequenceNode seq ? seq.Children.Select(c => ((YamlScalarNode)c).Value!).ToList() : [((YamlScalarNode)valueNode).Value!];
        Func<string, bool>[] tests = modifiers.FirstOrDefault() switch
        {
            null => [.. values.Select(v => Wildcard(v, contains: false)).Select(r => (Func<string, bool>)r.IsMatch)],
            "contains" => [.. values.Select(v => Wildcard("*" + v + "*", contains: false)).Select(r => (Func<string, bool>)r.IsMatch)],
            "startswith" => [.. values.Select(v => Wildcard(v + "*", contains: false)).Select(r => (Func<string, bool>)r.IsMatch)],
            "endswith" => [.. values.Select(v => Wildcard("*" + v, contains: false)).Select(r => (Func<string, bool>)r.IsMatch)],
            "re" => [.. values.Select(v => new Regex(v, RegexOptions.CultureInvariant)).Select(r => (Func<string, bool>)r.IsMatch)],
            "cidr" => [.. values.Select(v => IPNetwork.Parse(v)).Select(n => (Func<string, bool>)(s => IPAddress.TryParse(s, out var ip) && n.Contains(ip)))],
            var other => throw new InvalidDataException($"{file}: modifier {other} is outside the emitted subset"),
        };
        return e =>
        {
            if (!e.Fields.TryGetValue(field, out var actual))
                return false;
            bool One(Func<string, bool> test) => actual.Any(test);
            return all ? tests.All(One) : tests.Any(One);
        };
    }

    /// <summary>A Sigma value as a regex: '*' any text, '?' one character, '\' escapes them and itself; case-insensitive.</summary>
    internal static Regex Wildcard(string value, bool contains)
    {
        var pattern = new StringBuilder(contains ? "" : "^");
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length && value[i + 1] is '*' or '?' or '\\')
            {
                pattern.Append(Regex.Escape(value[++i].ToString()));
                continue;
            }
            pattern.Append(c switch { '*' => ".*", '?' => ".", _ => Regex.Escape(c.ToString()) });
        }
        if (!contains)
            pattern.Append('$');
        return new Regex(pattern.ToString(), RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    private static List<string> Tokenize(string condition) =>
        [.. Regex.Matches(condition, @"\(|\)|[^\s()]+").Select(m => m.Value)];

    private sealed class ConditionParser(List<string> tokens, Dictionary<string, Func<SigmaEvent, bool>> searches, SigmaEvent e)
    {
        private int _at;

        public bool AtEnd => _at == tokens.Count;

        private string? Peek => _at < tokens.Count ? tokens[_at] : null;

        public bool Or()
        {
            var value = And();
            while (Peek == "or")
            {
                _at++;
                value = And() | value;
            }
            return value;
        }

        private bool And()
        {
            var value = Not();
            while (Peek == "and")
            {
                _at++;
                value = Not() & value;
            }
            return value;
        }

        private bool Not()
        {
            if (Peek == "not")
            {
                _at++;
                return !Not();
            }
            return Primary();
        }

        private bool Primary()
        {
            var token = tokens[_at++];
            if (token == "(")
            {
                var inner = Or();
                if (tokens[_at++] != ")")
                    throw new InvalidDataException("unbalanced parentheses in condition");
                return inner;
            }
            if (token is "1" or "all" && Peek == "of")
            {
                _at++;
                var target = tokens[_at++];
                var named = target == "them"
                    ? searches.Values.ToList()
                    : searches.Where(s => Wildcard(target, contains: false).IsMatch(s.Key)).Select(s => s.Value).ToList();
                if (named.Count == 0)
                    throw new InvalidDataException($"'{target}' names no search identifier");
                return token == "1" ? named.Any(s => s(e)) : named.All(s => s(e));
            }
            return searches.TryGetValue(token, out var search) ? search(e) : throw new InvalidDataException($"unknown search identifier '{token}'");
        }
    }
}
