using System.Text.Json;

namespace ImdsWatch.Sources;

/// <summary>
/// Reading fields of JSON events by path: nested objects ("process" → "pid"), or the flattened form exports
/// write ("process.pid" at the top level). Absent or mistyped fields are null, never an exception.
/// </summary>
public static class JsonFields
{
    public static JsonElement? Walk(JsonElement e, params string[] path)
    {
        var root = e;
        foreach (var p in path)
        {
            if (e.ValueKind != JsonValueKind.Object)
                return null;
            if (!e.TryGetProperty(p, out var next))
                return root.ValueKind == JsonValueKind.Object && root.TryGetProperty(string.Join('.', path), out var flat) ? flat : null;
            e = next;
        }
        return e;
    }

    /// <summary>A string field (numbers as their text).</summary>
    public static string? Str(JsonElement e, params string[] path) => Walk(e, path) switch
    {
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        { ValueKind: JsonValueKind.Number } n => n.GetRawText(),
        _ => null,
    };

    /// <summary>A whole number, also when written as a string ("pid": "1648").</summary>
    public static long? Num(JsonElement e, params string[] path) => Walk(e, path) switch
    {
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var n) => n,
        { ValueKind: JsonValueKind.String } s when long.TryParse(s.GetString(), out var n) => n,
        _ => null,
    };

    /// <summary>An array of strings, or a single string as a one-element list.</summary>
    public static List<string> Strings(JsonElement e, params string[] path) => Walk(e, path) switch
    {
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList(),
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        _ => [],
    };
}
