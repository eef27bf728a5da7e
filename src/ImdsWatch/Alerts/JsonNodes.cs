using System.Text.Json.Nodes;

namespace ImdsWatch.Alerts;

/// <summary>JSON arrays from sequences, for documents built as <see cref="JsonObject"/>s (no reflection, so the native build can write them).</summary>
public static class JsonNodes
{
    public static JsonArray Array(IEnumerable<string?> values) => new([.. values.Select(v => (JsonNode?)v)]);

    public static JsonArray Array(IEnumerable<JsonObject> values) => new([.. values]);
}
