using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// Decides whether a process is a known cloud agent, by what the kernel recorded: the executable path,
/// the script an interpreter runs, the owner of those files, and (for agents that run helpers) its ancestors.
/// </summary>
public sealed class AgentAllowList(IReadOnlyList<AgentRule> rules)
{
    private static readonly string[] WritablePrefixes = ["/tmp/", "/var/tmp/", "/dev/shm/", "/home/", "/run/user/", "/var/www/", "/srv/"];

    public IReadOnlyList<AgentRule> Rules => rules;

    private static readonly Lazy<AgentAllowList> BuiltIn = new(() => new AgentAllowList(From(Config.BuiltInDocuments.Agents())));

    public static AgentAllowList Default => BuiltIn.Value;

    public static IReadOnlyList<AgentRule> Parse(string yaml) =>
        From(Config.YamlDocuments.Deserializer().Deserialize<Doc>(yaml) ?? new Doc());

    internal static IReadOnlyList<AgentRule> From(Doc doc) =>
        doc.Agents.Select(a => new AgentRule(a.Name, a.Executables, a.Scripts, a.Descendants)).ToList();

    public AgentAllowList With(IEnumerable<AgentRule> more, bool replace) => new(replace ? more.ToList() : [.. rules, .. more]);

    /// <summary>The agent this process is, or why it is not one although its name says so.</summary>
    public AgentVerdict Evaluate(ProcessSnapshot process, string? scriptPath, IEnumerable<ProcessSnapshot> ancestors)
    {
        var own = Match(process, scriptPath, requireDescendants: false);
        if (own.Agent is not null || own.Refusal is not null)
            return own;
        foreach (var ancestor in ancestors)
        {
            var hit = Match(ancestor, ScriptOf(ancestor), requireDescendants: true);
            if (hit.Agent is not null)
                return hit with { ViaAncestor = ancestor.Executable };
        }
        return AgentVerdict.None;
    }

    private AgentVerdict Match(ProcessSnapshot p, string? script, bool requireDescendants)
    {
        var exe = p.Executable;
        if (string.IsNullOrEmpty(exe))
            return AgentVerdict.None;
        // By index, without closures: every activity's verdict asks each rule of the process and of each ancestor,
        // and the enumerators and closures of that were 1 % of a full scan's samples (collections they triggered).
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            if (requireDescendants && !rule.Descendants)
                continue;
            string? matched = null;
            if (AnyMatches(rule.Executables, exe))
                matched = exe;
            else if (script is not null && AnyMatches(rule.Scripts, script))
                matched = script;
            if (matched is null)
                continue;
            if (Untrusted(exe) is { } why)
                return new AgentVerdict(null, $"{rule.Name} by path, but {why}", null);
            if (matched == script && Untrusted(script) is { } whyScript)
                return new AgentVerdict(null, $"{rule.Name} by script, but {whyScript}", null);
            var owner = OwnerOf(p, matched);
            if (owner is not null and not 0)
                return new AgentVerdict(null, $"{rule.Name} by path, but {matched} is owned by uid {owner}, not root", null);
            return new AgentVerdict(rule.Name, null, null);
        }
        return AgentVerdict.None;
    }

    private static bool AnyMatches(IReadOnlyList<string> globs, string text)
    {
        for (var i = 0; i < globs.Count; i++)
        {
            if (Glob.Matches(globs[i], text))
                return true;
        }
        return false;
    }

    /// <summary>Where an interpreter's script is: PATH item 0 when exec'd by its shebang, else the first argument, from cwd.</summary>
    public static string? ScriptOf(ProcessSnapshot p, string? analyzedScript = null)
    {
        var script = analyzedScript;
        if (script is null && p.Files.Count > 1 && p.Files[0].Name is { } first && first != p.Executable
            && !first.EndsWith(CommandLineAnalyzer.BaseName(p.Executable ?? "\0"), StringComparison.Ordinal))
            script = first;
        if (script is null || script.StartsWith("-m ", StringComparison.Ordinal))
            return script;
        if (!script.StartsWith('/') && p.WorkingDirectory is { } cwd)
            script = Path.GetFullPath(Path.Combine(cwd, script));
        return script;
    }

    /// <summary>A program or script where any user could have put it (or a memory-only file): a risk of its own.</summary>
    public static string? WritableLocation(string path)
    {
        if (path.StartsWith("/memfd:", StringComparison.Ordinal))
            return $"{path} runs from memory only";
        foreach (var prefix in WritablePrefixes)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
                return $"{path} is in a user-writable directory";
        }
        return null;
    }

    internal static string? Untrusted(string path)
    {
        if (path.EndsWith(" (deleted)", StringComparison.Ordinal) || path.Contains(';', StringComparison.Ordinal))
            return $"{path} was deleted or replaced after it started";
        return WritableLocation(path);
    }

    private static long? OwnerOf(ProcessSnapshot p, string path) =>
        p.Files.Where(f => f.Name == path || (f.Name.StartsWith('.') && path.EndsWith(f.Name.TrimStart('.'), StringComparison.Ordinal)))
            .Select(f => f.OwnerUid).FirstOrDefault();

    internal sealed class Doc
    {
        public List<AgentDoc> Agents { get; set; } = [];
    }

    internal sealed class AgentDoc
    {
        public string Name { get; set; } = "";
        public List<string> Executables { get; set; } = [];
        public List<string> Scripts { get; set; } = [];
        public bool Descendants { get; set; }
    }
}

/// <summary>The agent a process is (or null), or why a process that looked like an agent was refused.</summary>
public sealed record AgentVerdict(string? Agent, string? Refusal, string? ViaAncestor)
{
    public static AgentVerdict None { get; } = new(null, null, null);
}
