using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImdsWatch.Detection;
using ImdsWatch.Export;
using ImdsWatch.Tests.Support;
using Json.Schema;
using YamlDotNet.RepresentationModel;

namespace ImdsWatch.Tests.Export;

/// <summary>The exports of the built-in catalogs, the stored SIEM schemas, and the conversions tests need.</summary>
internal static class ExportFixtures
{
    public static string Schemas => Path.GetFullPath(Path.Combine(Repo.Root, "..", "shared", "schemas"));

    public static string GoldenRoot => Path.Combine(Repo.Root, "tests", "ImdsWatch.Tests", "Export", "golden");

    public static IReadOnlyList<ExportFile> Sigma { get; } = RuleExport.Generate(ExportTarget.Sigma, DetectionRules.Default);

    public static IReadOnlyList<ExportFile> Splunk { get; } = RuleExport.Generate(ExportTarget.Splunk, DetectionRules.Default);

    public static IReadOnlyList<ExportFile> Elastic { get; } = RuleExport.Generate(ExportTarget.Elastic, DetectionRules.Default);

    public static IEnumerable<ExportFile> SigmaDetectionRules => Sigma.Where(f => !f.Content.Contains("\ncorrelation:", StringComparison.Ordinal));

    /// <summary>A schema from ../shared/schemas, each in a registry of its own (they share $ids).</summary>
    public static JsonSchema Schema(string relativePath, string? asDialect = null)
    {
        var text = File.ReadAllText(Path.Combine(Schemas, relativePath));
        if (asDialect is not null)
        {
            var node = JsonNode.Parse(text)!.AsObject();
            node["$schema"] = asDialect;
            text = node.ToJsonString();
        }
        return JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }

    public static IReadOnlyList<string> Validate(JsonSchema schema, JsonNode instance)
    {
        var result = schema.Evaluate(JsonSerializer.SerializeToElement(instance),
            new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (result.IsValid)
            return [];
        return [.. (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} ({d.EvaluationPath}): {e.Key}: {e.Value}"))];
    }

    /// <summary>YAML to JSON as a Sigma tool reads it: plain integers and booleans typed, every other scalar a string.</summary>
    public static JsonNode YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Convert(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Convert(kv.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Convert)]),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when long.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new InvalidDataException($"YAML node {node.NodeType}"),
    };
}

/// <summary>A fact that needs ../shared/schemas and skips cleanly without it.</summary>
public sealed class SchemaFactAttribute : FactAttribute
{
    public SchemaFactAttribute()
    {
        if (!Directory.Exists(ExportFixtures.Schemas))
            Skip = $"{ExportFixtures.Schemas} is absent (a plain clone has no stored SIEM schemas)";
    }
}
