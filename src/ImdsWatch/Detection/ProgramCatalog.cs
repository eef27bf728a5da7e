using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>The roles programs play (fetch tool, shell, interpreter, web server, wrapper, mention-only), from YAML.</summary>
public sealed class ProgramCatalog
{
    public required IReadOnlySet<string> FetchTools { get; init; }
    public required IReadOnlySet<string> Shells { get; init; }
    public required IReadOnlyList<InterpreterSpec> Interpreters { get; init; }
    public required IReadOnlyList<string> NetworkCodeWords { get; init; }
    public required IReadOnlyList<string> WebServers { get; init; }
    public required IReadOnlyList<string> WebServerScripts { get; init; }
    public required IReadOnlySet<string> MentionOnly { get; init; }
    public required IReadOnlySet<string> MentionOptions { get; init; }
    public required IReadOnlyDictionary<string, WrapperSpec> Wrappers { get; init; }

    private static readonly Lazy<ProgramCatalog> BuiltIn = new(() => From(Config.BuiltInDocuments.Programs()));

    public static ProgramCatalog Default => BuiltIn.Value;

    public static ProgramCatalog Load(string yaml) =>
        From(Config.YamlDocuments.Deserializer().Deserialize<Doc>(yaml) ?? new Doc());

    internal static ProgramCatalog From(Doc doc) =>
        new()
        {
            FetchTools = doc.FetchTools.ToHashSet(StringComparer.Ordinal),
            Shells = doc.Shells.ToHashSet(StringComparer.Ordinal),
            Interpreters = doc.Interpreters.Select(i => new InterpreterSpec(i.Pattern, i.CodeFlags)).ToList(),
            NetworkCodeWords = doc.NetworkCodeWords,
            WebServers = doc.WebServers,
            WebServerScripts = doc.WebServerScripts,
            MentionOnly = doc.MentionOnly.ToHashSet(StringComparer.Ordinal),
            MentionOptions = doc.MentionOptions.ToHashSet(StringComparer.Ordinal),
            Wrappers = doc.Wrappers.ToDictionary(w => w.Name, w => new WrapperSpec(
                w.Name, w.ValueOptions.ToHashSet(StringComparer.Ordinal), w.Positionals, w.CommandOption, w.SplitOption,
                w.JoinAsScript, w.Subcommand), StringComparer.Ordinal),
        };

    public InterpreterSpec? Interpreter(string program)
    {
        foreach (var i in Interpreters)
        {
            if (Glob.Matches(i.Pattern, program))
                return i;
        }
        return null;
    }

    public bool IsWebServer(string? program) =>
        program is not null && WebServers.Any(w => Glob.Matches(w, program));

    internal sealed class Doc
    {
        public List<string> FetchTools { get; set; } = [];
        public List<string> Shells { get; set; } = [];
        public List<InterpreterDoc> Interpreters { get; set; } = [];
        public List<string> NetworkCodeWords { get; set; } = [];
        public List<string> WebServers { get; set; } = [];
        public List<string> WebServerScripts { get; set; } = [];
        public List<string> MentionOnly { get; set; } = [];
        public List<string> MentionOptions { get; set; } = [];
        public List<WrapperDoc> Wrappers { get; set; } = [];
    }

    internal sealed class InterpreterDoc
    {
        public string Pattern { get; set; } = "";
        public List<string> CodeFlags { get; set; } = [];
    }

    internal sealed class WrapperDoc
    {
        public string Name { get; set; } = "";
        public List<string> ValueOptions { get; set; } = [];
        public int Positionals { get; set; }
        public string? CommandOption { get; set; }
        public string? SplitOption { get; set; }
        public bool JoinAsScript { get; set; }
        public List<string> Subcommand { get; set; } = [];
    }
}

public sealed record InterpreterSpec(string Pattern, IReadOnlyList<string> CodeFlags);

public sealed record WrapperSpec(string Name, IReadOnlySet<string> ValueOptions, int Positionals, string? CommandOption,
    string? SplitOption, bool JoinAsScript, IReadOnlyList<string> Subcommand);
