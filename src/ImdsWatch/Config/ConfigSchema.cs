using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ImdsWatch.Config;

/// <summary>
/// The keys of the configuration file and what each holds, checked before the file is read into
/// <see cref="ImdsWatchConfig"/>: a mistake is reported with file, line, the key, what was expected, and the
/// closest valid key — never with the names of .NET types.
/// </summary>
internal static class ConfigSchema
{
    private enum Kind
    {
        Text,
        Integer,
        Number,
        Boolean,
        TextList,
        AnyList,
        Section,
        TextListMap,
        TextMap,
    }

    private sealed record Key(Kind Kind, IReadOnlyDictionary<string, Key>? Children = null, Key? Item = null);

    private static readonly Dictionary<string, Key> Agent = new(StringComparer.Ordinal)
    {
        ["name"] = new(Kind.Text),
        ["executables"] = new(Kind.TextList),
        ["scripts"] = new(Kind.TextList),
        ["descendants"] = new(Kind.Boolean),
    };

    private static readonly Dictionary<string, Key> Endpoint = new(StringComparer.Ordinal)
    {
        ["id"] = new(Kind.Text),
        ["name"] = new(Kind.Text),
        ["providers"] = new(Kind.TextList),
        ["addresses"] = new(Kind.TextList),
        ["hostnames"] = new(Kind.TextList),
        ["url_only"] = new(Kind.Boolean),
    };

    private static readonly Dictionary<string, Key> PathIndicator = new(StringComparer.Ordinal)
    {
        ["prefix"] = new(Kind.Text),
        ["class"] = new(Kind.Text),
        ["provider"] = new(Kind.Text),
        ["strong"] = new(Kind.Boolean),
    };

    private static readonly Dictionary<string, Key> Header = new(StringComparer.Ordinal)
    {
        ["name"] = new(Kind.Text),
        ["value"] = new(Kind.Text),
        ["provider"] = new(Kind.Text),
        ["class"] = new(Kind.Text),
    };

    private static readonly Dictionary<string, Key> Sink = new(StringComparer.Ordinal)
    {
        ["type"] = new(Kind.Text),
        ["name"] = new(Kind.Text),
        ["url"] = new(Kind.Text),
        ["path"] = new(Kind.Text),
        ["min_severity"] = new(Kind.Text),
        ["headers"] = new(Kind.TextMap),
        ["token"] = new(Kind.Text),
        ["index"] = new(Kind.Text),
        ["sourcetype"] = new(Kind.Text),
        ["batch_size"] = new(Kind.Integer),
        ["batch_max_mb"] = new(Kind.Number),
        ["linger_ms"] = new(Kind.Number),
        ["format"] = new(Kind.Text),
        ["timeout_seconds"] = new(Kind.Number),
        ["retries"] = new(Kind.Integer),
        ["insecure_skip_verify"] = new(Kind.Boolean),
        ["ca_file"] = new(Kind.Text),
        ["max_file_mb"] = new(Kind.Number),
        ["max_files"] = new(Kind.Integer),
        ["spool_max_mb"] = new(Kind.Number),
    };

    private static readonly Dictionary<string, Key> Top = new(StringComparer.Ordinal)
    {
        ["host"] = new(Kind.Text),
        ["min_severity"] = new(Kind.Text),
        ["agents"] = new(Kind.Section, new Dictionary<string, Key>(StringComparer.Ordinal)
        {
            ["replace_defaults"] = new(Kind.Boolean),
            ["add"] = new(Kind.AnyList, Item: new Key(Kind.Section, Agent)),
        }),
        ["indicators"] = new(Kind.Section, new Dictionary<string, Key>(StringComparer.Ordinal)
        {
            ["endpoints"] = new(Kind.AnyList, Item: new Key(Kind.Section, Endpoint)),
            ["paths"] = new(Kind.AnyList, Item: new Key(Kind.Section, PathIndicator)),
            ["headers"] = new(Kind.AnyList, Item: new Key(Kind.Section, Header)),
        }),
        ["programs"] = new(Kind.Section, new Dictionary<string, Key>(StringComparer.Ordinal)
        {
            ["mention_only"] = new(Kind.TextList),
            ["fetch_tools"] = new(Kind.TextList),
            ["web_servers"] = new(Kind.TextList),
        }),
        ["anomaly"] = new(Kind.Section, new Dictionary<string, Key>(StringComparer.Ordinal)
        {
            ["user_threshold"] = new(Kind.Integer),
            ["process_threshold"] = new(Kind.Integer),
            ["learning_days"] = new(Kind.Number),
        }),
        ["cloudtrail"] = new(Kind.Section, new Dictionary<string, Key>(StringComparer.Ordinal)
        {
            ["aws_ip_ranges"] = new(Kind.Text),
            ["trusted_cidrs"] = new(Kind.TextList),
            ["instance_addresses"] = new(Kind.TextListMap),
        }),
        ["sinks"] = new(Kind.AnyList, Item: new Key(Kind.Section, Sink)),
        ["agent"] = new(Kind.Section, new Dictionary<string, Key>(StringComparer.Ordinal)
        {
            ["window_seconds"] = new(Kind.Number),
            ["state_dir"] = new(Kind.Text),
            ["queue_capacity"] = new(Kind.Integer),
            ["stats_interval_minutes"] = new(Kind.Number),
            ["follow"] = new(Kind.TextList),
        }),
    };

    /// <summary>The valid keys of each section ("" for the top level), for tests and messages.</summary>
    internal static IReadOnlyDictionary<string, IReadOnlyCollection<string>> Sections()
    {
        var sections = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal) { [""] = Top.Keys };
        foreach (var (name, key) in Top)
        {
            if (key.Children is not null)
                sections[name] = [.. key.Children.Keys];
        }
        sections["agents.add"] = Agent.Keys;
        sections["indicators.endpoints"] = Endpoint.Keys;
        sections["indicators.paths"] = PathIndicator.Keys;
        sections["indicators.headers"] = Header.Keys;
        sections["sinks"] = Sink.Keys;
        return sections;
    }

    /// <summary>Checks <paramref name="yaml"/>; the first mistake is thrown as <see cref="InvalidDataException"/>.</summary>
    public static void Check(string path, string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{path}:{e.Start.Line}: not valid YAML: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // The YAML library's own state errors on some malformed documents (found by fuzzing the loader).
            throw new InvalidDataException($"{path}: not valid YAML: {e.Message}", e);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
            return;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw Error(path, stream.Documents[0].RootNode, "the configuration must be a mapping of keys (host:, agents:, cloudtrail:, …)");
        CheckSection(path, root, Top, "");
    }

    private static void CheckSection(string path, YamlMappingNode node, IReadOnlyDictionary<string, Key> keys, string where)
    {
        foreach (var (keyNode, value) in node.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            var qualified = where.Length == 0 ? name : $"{where}.{name}";
            if (!keys.TryGetValue(name, out var key))
            {
                var closest = ClosestName.Of(name.Replace('-', '_').ToLowerInvariant(), keys.Keys);
                throw Error(path, keyNode, $"unknown key '{qualified}'"
                    + (closest is null ? "" : $"; did you mean '{(where.Length == 0 ? closest : $"{where}.{closest}")}'?")
                    + $" (valid{(where.Length == 0 ? "" : $" in {where}")}: {string.Join(", ", keys.Keys)})");
            }
            CheckValue(path, value, key, qualified);
        }
    }

    private static void CheckValue(string path, YamlNode value, Key key, string name)
    {
        if (value is YamlScalarNode { Value: null or "~" or "null" } && value.Tag.IsEmpty)
            return; // an empty key keeps its default
        switch (key.Kind)
        {
            case Kind.Text:
                Expect<YamlScalarNode>(path, value, name, "a text value");
                break;
            case Kind.Integer:
                if (!long.TryParse(Expect<YamlScalarNode>(path, value, name, "a whole number").Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                    throw Error(path, value, $"{name}: '{((YamlScalarNode)value).Value}' is not a whole number");
                break;
            case Kind.Number:
                if (!double.TryParse(Expect<YamlScalarNode>(path, value, name, "a number").Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw Error(path, value, $"{name}: '{((YamlScalarNode)value).Value}' is not a number");
                break;
            case Kind.Boolean:
                if (Expect<YamlScalarNode>(path, value, name, "true or false").Value is not ("true" or "false" or "True" or "False" or "yes" or "no"))
                    throw Error(path, value, $"{name}: '{((YamlScalarNode)value).Value}' is not true or false");
                break;
            case Kind.TextList:
                foreach (var item in Expect<YamlSequenceNode>(path, value, name, "a list of text values, e.g. [a, b]"))
                    Expect<YamlScalarNode>(path, item, name, "a list of text values, e.g. [a, b]");
                break;
            case Kind.AnyList:
                foreach (var item in Expect<YamlSequenceNode>(path, value, name, "a list"))
                {
                    if (key.Item is not null)
                        CheckValue(path, item, key.Item, name);
                }
                break;
            case Kind.Section:
                CheckSection(path, Expect<YamlMappingNode>(path, value, name, "a section of keys"), key.Children!, name);
                break;
            case Kind.TextListMap:
                foreach (var (_, list) in Expect<YamlMappingNode>(path, value, name, "a mapping of names to lists, e.g. { i-0abc: [203.0.113.7] }"))
                    CheckValue(path, list, new Key(Kind.TextList), name);
                break;
            case Kind.TextMap:
                foreach (var (_, text) in Expect<YamlMappingNode>(path, value, name, "a mapping of names to text, e.g. { Authorization: Bearer abc }"))
                    CheckValue(path, text, new Key(Kind.Text), name);
                break;
        }
    }

    private static T Expect<T>(string path, YamlNode value, string name, string what) where T : YamlNode =>
        value as T ?? throw Error(path, value, $"{name}: expected {what}, found {Describe(value)}");

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a section of keys",
        _ => "something else",
    };

    private static InvalidDataException Error(string path, YamlNode node, string message) =>
        new($"{path}:{node.Start.Line}: {message}");
}
