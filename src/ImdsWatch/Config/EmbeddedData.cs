using System.Reflection;

namespace ImdsWatch.Config;

/// <summary>The YAML catalogs built into the library (indicators, programs, agents).</summary>
internal static class EmbeddedData
{
    public static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
