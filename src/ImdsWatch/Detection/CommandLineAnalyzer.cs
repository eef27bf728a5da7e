using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// Reads argv the way the program will: strips wrappers, opens sh -c scripts and interpreter one-liners,
/// and decides whether a metadata endpoint on the command line is an access or only a mention
/// (iptables, ip route, grep, echo, an ipaddress check).
/// </summary>
public sealed class CommandLineAnalyzer(EndpointReferenceFinder finder, ProgramCatalog programs, IndicatorCatalog catalog)
{
    private const int MaxDepth = 6;

    public CommandAnalysis Analyze(IReadOnlyList<string> argv) => Analyze(argv, 0);

    private CommandAnalysis Analyze(IReadOnlyList<string> argv, int depth)
    {
        if (argv.Count == 0)
            return CommandAnalysis.Empty("");
        var args = Unwrap(argv, depth, out var nested);
        if (nested is not null)
            return nested;
        if (args.Count == 0)
            return CommandAnalysis.Empty(BaseName(argv[0]));

        var program = BaseName(args[0]);
        var headers = Headers(args);

        if (programs.Shells.Contains(program))
            return AnalyzeShell(args, program, depth, headers);
        if (programs.Interpreter(program) is { } interpreter)
            return AnalyzeInterpreter(args, program, interpreter, headers);

        var refs = FindAll(args, 1);
        var devTcp = args.Any(IsSocketPath);
        if (programs.MentionOnly.Contains(program) && !devTcp)
        {
            return new CommandAnalysis
            {
                References = refs,
                IsAccess = false,
                Program = program,
                Role = ProgramRole.MentionOnly,
                Reason = refs.Count > 0 ? $"{program} only mentions the address" : null,
                EffectiveArgs = args,
                Headers = headers,
            };
        }
        return new CommandAnalysis
        {
            References = refs,
            IsAccess = refs.Count > 0,
            Program = program,
            Role = programs.FetchTools.Contains(program) ? ProgramRole.FetchTool
                : programs.IsWebServer(program) ? ProgramRole.WebServer : ProgramRole.Other,
            EffectiveArgs = args,
            Headers = headers,
        };
    }

    private CommandAnalysis AnalyzeShell(List<string> args, string program, int depth, IReadOnlyList<HeaderIndicator> headers)
    {
        var scriptIndex = -1;
        for (var i = 1; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
                break;
            if (a.Length > 1 && a[0] == '-' && a[1] != '-' && a.Contains('c', StringComparison.Ordinal))
            {
                scriptIndex = i + 1;
                break;
            }
            if (a.Length == 0 || (a[0] != '-' && a[0] != '+'))
                break; // an empty argument is the script's name, as any other word
        }
        if (scriptIndex < 0 || scriptIndex >= args.Count)
        {
            // A script file or an interactive shell: only the arguments are in sight.
            var refs = FindAll(args, 1);
            return new CommandAnalysis
            {
                References = refs,
                IsAccess = refs.Count > 0,
                Program = program,
                Role = ProgramRole.Shell,
                ScriptPath = args.Skip(1).FirstOrDefault(a => !a.StartsWith('-')),
                EffectiveArgs = args,
                Headers = headers,
            };
        }
        var script = args[scriptIndex];
        var inner = AnalyzeScript(script, depth);
        return inner with
        {
            Program = program,
            Role = ProgramRole.ShellOneLiner,
            InlineCode = script,
            EffectiveArgs = args,
            Headers = [.. headers, .. inner.Headers],
        };
    }

    /// <summary>Each simple command of a shell script is analyzed on its own; one access makes the script an access.</summary>
    private CommandAnalysis AnalyzeScript(string script, int depth)
    {
        var refs = new List<EndpointReference>();
        var access = false;
        string? reason = null;
        var headers = new List<HeaderIndicator>();
        foreach (var command in ShellWords.SplitCommands(script))
        {
            var words = command.SkipWhile(w => w.Contains('=', StringComparison.Ordinal) && !w.StartsWith('-') && w.IndexOf('=') > 0 && !w.Contains('/', StringComparison.Ordinal)).ToList();
            if (words.Count == 0)
                continue;
            var sub = depth + 1 < MaxDepth ? Analyze(words, depth + 1) : CommandAnalysis.Empty(BaseName(words[0]));
            refs.AddRange(sub.References);
            headers.AddRange(sub.Headers);
            if (sub.IsAccess)
                access = true;
            reason ??= sub.Reason;
        }
        if (!access && IsSocketPath(script) && refs.Count > 0)
            access = true;
        return new CommandAnalysis
        {
            References = refs,
            IsAccess = access,
            Program = "sh",
            Role = ProgramRole.ShellOneLiner,
            Reason = access ? null : reason,
            Headers = headers,
        };
    }

    private CommandAnalysis AnalyzeInterpreter(List<string> args, string program, InterpreterSpec spec, IReadOnlyList<HeaderIndicator> headers)
    {
        string? code = null;
        string? script = null;
        var rest = 1;
        for (var i = 1; i < args.Count; i++)
        {
            var a = args[i];
            var flag = spec.CodeFlags.FirstOrDefault(f => a == f || (f.Length == 2 && a.StartsWith(f, StringComparison.Ordinal) && a.Length > 2 && f[0] == '-'));
            if (flag is not null)
            {
                code = a == flag ? (i + 1 < args.Count ? args[i + 1] : "") : a[flag.Length..];
                rest = a == flag ? i + 2 : i + 1;
                break;
            }
            if (a == "-m" && i + 1 < args.Count)
            {
                script = "-m " + args[i + 1];
                rest = i + 2;
                break;
            }
            if (!a.StartsWith('-'))
            {
                script = a;
                rest = i + 1;
                break;
            }
        }

        if (code is null)
        {
            var refs = FindAll(args, rest);
            return new CommandAnalysis
            {
                References = refs,
                IsAccess = refs.Count > 0,
                Program = program,
                Role = ProgramRole.Interpreter,
                ScriptPath = script,
                EffectiveArgs = args,
                Headers = headers,
            };
        }

        var codeRefs = finder.Find(code).ToList();
        var argRefs = FindAll(args, rest);
        var networked = codeRefs.Any(r => r.IsUrl) || programs.NetworkCodeWords.Any(w => code.Contains(w, StringComparison.OrdinalIgnoreCase));
        var isAccess = argRefs.Count > 0 || (codeRefs.Count > 0 && networked);
        return new CommandAnalysis
        {
            References = [.. codeRefs, .. argRefs],
            IsAccess = isAccess,
            Program = program,
            Role = ProgramRole.InterpreterOneLiner,
            InlineCode = code,
            EffectiveArgs = args,
            Headers = [.. headers, .. Headers([code])],
            Reason = !isAccess && codeRefs.Count > 0 ? "inline code mentions the address without any network call" : null,
        };
    }

    /// <summary>Strips wrappers; for wrappers that take a command string (su -c, watch) analyzes it as a script.</summary>
    private List<string> Unwrap(IReadOnlyList<string> argv, int depth, out CommandAnalysis? nested)
    {
        nested = null;
        var args = argv.ToList();
        for (var guard = 0; guard < 8 && args.Count > 0; guard++)
        {
            var name = BaseName(args[0]);
            if (!programs.Wrappers.TryGetValue(name, out var w))
                return args;
            var i = 1;
            if (w.Subcommand.Count > 0)
            {
                if (args.Count <= w.Subcommand.Count || !w.Subcommand.Select((s, k) => args[1 + k] == s).All(x => x))
                    return args;
                i += w.Subcommand.Count;
            }
            var positionals = w.Positionals;
            while (i < args.Count)
            {
                var a = args[i];
                if (a == "--")
                {
                    i++;
                    break;
                }
                if (w.CommandOption is not null && a == w.CommandOption && i + 1 < args.Count)
                {
                    nested = depth + 1 < MaxDepth ? AnalyzeScript(args[i + 1], depth + 1) with { EffectiveArgs = args } : null;
                    return [];
                }
                if (w.SplitOption is not null && a == w.SplitOption && i + 1 < args.Count)
                {
                    var split = ShellWords.SplitCommands(args[i + 1]).FirstOrDefault() ?? [];
                    args = [.. split, .. args.Skip(i + 2)];
                    i = -1;
                    break;
                }
                if (a.StartsWith('-') && a.Length > 1)
                {
                    i += w.ValueOptions.Contains(a) ? 2 : 1;
                    continue;
                }
                if (name == "env" && a.Contains('=', StringComparison.Ordinal))
                {
                    i++;
                    continue;
                }
                if (positionals > 0)
                {
                    positionals--;
                    i++;
                    continue;
                }
                break;
            }
            if (i < 0)
                continue;
            if (w.JoinAsScript)
            {
                nested = depth + 1 < MaxDepth ? AnalyzeScript(string.Join(' ', args.Skip(i)), depth + 1) with { EffectiveArgs = args } : null;
                return [];
            }
            args = args.Skip(i).ToList();
        }
        return args;
    }

    private List<EndpointReference> FindAll(List<string> args, int from)
    {
        var refs = new List<EndpointReference>();
        for (var i = from; i < args.Count; i++)
        {
            if (IsMentionOptionValue(args, i))
                continue;
            refs.AddRange(finder.Find(args[i]));
        }
        return refs;
    }

    /// <summary>The value of --bind ADDR, --noproxy=ADDR and the like names an address that is not reached.</summary>
    private bool IsMentionOptionValue(List<string> args, int i)
    {
        if (i > 0 && programs.MentionOptions.Contains(args[i - 1]))
            return true;
        var eq = args[i].IndexOf('=', StringComparison.Ordinal);
        return eq > 2 && args[i].StartsWith("--", StringComparison.Ordinal) && programs.MentionOptions.Contains(args[i][..eq]);
    }

    private List<HeaderIndicator> Headers(List<string> args)
    {
        var found = new List<HeaderIndicator>();
        foreach (var a in args)
        {
            if (!a.Contains(':', StringComparison.Ordinal))
                continue; // a header is "Name: value"
            foreach (var h in catalog.Headers)
            {
                var at = a.IndexOf(h.Name + ":", StringComparison.OrdinalIgnoreCase);
                if (at < 0 || (at > 0 && char.IsAsciiLetterOrDigit(a[at - 1]) || (at > 0 && a[at - 1] == '-')))
                    continue;
                var value = a[(at + h.Name.Length + 1)..].Trim().Trim('"', '\'');
                if (h.Value is null || value.StartsWith(h.Value, StringComparison.OrdinalIgnoreCase))
                    found.Add(h);
            }
        }
        return found;
    }

    private static bool IsSocketPath(string s) =>
        s.Contains("/dev/tcp/", StringComparison.Ordinal) || s.Contains("/dev/udp/", StringComparison.Ordinal)
        || s.Contains("/inet/tcp/", StringComparison.Ordinal) || s.Contains("/inet4/tcp/", StringComparison.Ordinal);

    public static string BaseName(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? path : path[(slash + 1)..];
    }
}
