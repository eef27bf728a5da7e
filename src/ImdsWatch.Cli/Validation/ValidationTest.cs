using System.Reflection;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace ImdsWatch.Cli.Validation;

/// <summary>One atomic test: a command to run in the namespace and the alerts it must (or must not) raise.</summary>
public sealed class ValidationTest
{
    private static readonly System.Buffers.SearchValues<char> IdChars = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-_");

    public string Id { get; set; } = "";
    public string Title { get; set; } = "";
    public string Signal { get; set; } = "";
    public string Command { get; set; } = "";
    public List<string> Requires { get; set; } = [];
    public List<ExpectedAlert> Expect { get; set; } = [];
    public bool ExpectNone { get; set; }

    public static List<ValidationTest> BuiltIn()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("ImdsWatch.Cli.Validation.tests.yaml")
            ?? throw new InvalidOperationException("embedded tests.yaml is missing from the build");
        return Parse(new StreamReader(s).ReadToEnd(), "built-in tests");
    }

    public static List<ValidationTest> Parse(string yaml, string origin)
    {
        var doc = new StaticDeserializerBuilder(new ValidationYaml()).WithNamingConvention(UnderscoredNamingConvention.Instance).Build()
            .Deserialize<Suite>(yaml) ?? new Suite();
        foreach (var t in doc.Tests)
        {
            if (string.IsNullOrWhiteSpace(t.Id) || t.Id.AsSpan().IndexOfAnyExcept(IdChars) >= 0)
                throw new InvalidDataException($"{origin}: test id '{t.Id}' must be lower-case letters, digits, '-' or '_'");
            if (string.IsNullOrWhiteSpace(t.Command))
                throw new InvalidDataException($"{origin}: test {t.Id} has no command");
            if (!t.ExpectNone && t.Expect.Count == 0)
                throw new InvalidDataException($"{origin}: test {t.Id} needs 'expect' or 'expect_none: true'");
        }
        return doc.Tests;
    }

    internal sealed class Suite
    {
        public List<ValidationTest> Tests { get; set; } = [];
    }
}

public sealed class ExpectedAlert
{
    public string? AlertType { get; set; }
    public string? Access { get; set; }
    public List<string> Layers { get; set; } = [];
    public string? Process { get; set; }
    public List<string> Tags { get; set; } = [];
    public string? MinSeverity { get; set; }

    public override string ToString() =>
        string.Join(' ', new[] { AlertType, Access, Layers.Count > 0 ? string.Join('+', Layers) : null, Process, Tags.Count > 0 ? string.Join(',', Tags) : null }.Where(x => x is not null));
}

/// <summary>The test suite's YAML, described at compile time (no reflection: the native build can read it).</summary>
[YamlStaticContext]
[YamlSerializable(typeof(ValidationTest.Suite))]
[YamlSerializable(typeof(ValidationTest))]
[YamlSerializable(typeof(ExpectedAlert))]
public partial class ValidationYaml : StaticContext;
