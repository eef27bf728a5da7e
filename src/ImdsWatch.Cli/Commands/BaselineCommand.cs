using System.CommandLine;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Store;
using Spectre.Console;

namespace ImdsWatch.Cli.Commands;

/// <summary><c>imdswatch baseline learn|show|forget|export|import</c>: what normal metadata-service use looks like.</summary>
public static class BaselineCommand
{
    private static readonly string[] ShowColumns = ["Host", "Kind", "Who", "Access", "Count", "First seen", "Last seen"];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var state = StateOption.Create();
        var command = new Command("baseline", "Learn, show, forget, export and import which users and programs normally reach the metadata service");

        var paths = new Argument<string[]>("path") { Arity = ArgumentArity.OneOrMore, Description = "Audit logs known to be normal" };
        var config = new Option<string?>("--config", "-c") { Description = "YAML configuration (agents, host name)" };
        var host = new Option<string?>("--host") { Description = "Host name for records without node=" };
        var acceptRisky = new Option<bool>("--accept-risky") { Description = "Also learn accesses that look like an attack (/dev/tcp, a program in a writable place, an impersonated agent, an evasive spelling, a web server)" };
        var learn = new Command("learn", "Learn from logs known to be normal") { paths, config, host, state, acceptRisky };
        learn.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            var cfg = EffectiveConfig.Build(parse.GetValue(config), new ConfigFlags { Host = parse.GetValue(host) });
            var sources = InputResolver.Resolve(parse.GetValue(paths) ?? [], out var errors);
            if (errors.Count > 0)
                throw new InvalidDataException(string.Join("\n", errors));
            var result = cfg.Pipeline().Scan(sources);
            var risky = result.Accesses.Select(a => (Access: a, Why: WhyRisky(a, cfg.Rules.Risk))).Where(x => x.Why.Count > 0).ToList();
            var accept = parse.GetValue(acceptRisky);
            WarnRisky(risky, accept, stderr);
            var learned = accept ? result.Accesses : [.. result.Accesses.Except(risky.Select(x => x.Access))];
            using var store = StateStore.Open(StateOption.PathOf(parse, state));
            var n = new BaselineRepository(store).Learn(learned);
            new SessionRepository(store).Add(result.Sessions);
            stderr.WriteLine($"imdswatch: learned {n} metadata-service access(es) from {result.Files.Count} file(s) into {store.Path}");
            if (result.IssueCount > 0)
                stderr.WriteLine($"imdswatch: {result.IssueCount} line(s) could not be read (imdswatch scan --verbose lists them)");
            return ExitCodes.Ok;
        }));

        var showHost = new Option<string?>("--host") { Description = "Only this host" };
        var show = new Command("show", "Show the baseline: per host, the users and programs that reach the metadata service") { state, showHost };
        show.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            using var store = StateStore.OpenExisting(StateOption.PathOf(parse, state));
            var repo = new BaselineRepository(store);
            var entries = repo.Entries().Where(e => parse.GetValue(showHost) is not { } h || e.Host == h).ToList();
            var hosts = repo.Hosts();
            var console = TableConsole.For(stdout);
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var c in ShowColumns)
                table.AddColumn(c);
            foreach (var e in entries)
            {
                table.AddRow(Markup.Escape(e.Host.Length == 0 ? "(unnamed)" : TerminalText.Escape(e.Host)), e.Kind,
                    Markup.Escape(TerminalText.Escape(e.Kind == BaselineEntry.User ? $"{e.Label ?? "?"} ({e.Subject})" : e.Subject + (e.Label is { } agent ? $" [{agent}]" : ""))),
                    e.Access.ToWire(), e.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    e.FirstSeen.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture),
                    e.LastSeen.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture));
            }
            console.Write(table);
            stdout.WriteLine($"{hosts.Count} host(s); " + string.Join("; ", hosts.Select(h => $"{(h.Key.Length == 0 ? "(unnamed)" : TerminalText.Escape(h.Key))}: {(h.Value.Last - h.Value.First).TotalDays:0.#} day(s) of history")));
            return ExitCodes.Ok;
        }));

        var forgetHost = new Option<string?>("--host") { Description = "The host (alone: forget the whole host)" };
        var forgetUser = new Option<string?>("--user") { Description = "A user, by uid or name" };
        var forgetProgram = new Option<string?>("--program") { Description = "A program: its executable or its full key" };
        var forget = new Command("forget", "Forget a user, a program or a host") { state, forgetHost, forgetUser, forgetProgram };
        forget.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            var (h, u, p) = (parse.GetValue(forgetHost), parse.GetValue(forgetUser), parse.GetValue(forgetProgram));
            if (h is null && u is null && p is null)
                throw new InvalidDataException("say what to forget: --host, --user and/or --program");
            using var store = StateStore.OpenExisting(StateOption.PathOf(parse, state));
            var n = new BaselineRepository(store).Forget(h, u, p);
            stderr.WriteLine($"imdswatch: forgot {n} baseline entr{(n == 1 ? "y" : "ies")}");
            return ExitCodes.Ok;
        }));

        var exportFile = new Argument<string>("file") { Description = "JSON file to write (- for standard output)" };
        var export = new Command("export", "Write the baseline as JSON, to merge into another host's or a fleet's") { exportFile, state };
        export.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            using var store = StateStore.OpenExisting(StateOption.PathOf(parse, state));
            var json = new BaselineRepository(store).Export();
            var file = parse.GetValue(exportFile)!;
            if (file == "-")
                stdout.WriteLine(json);
            else
                File.WriteAllText(file, json);
            return ExitCodes.Ok;
        }));

        var importFile = new Argument<string>("file") { Description = "JSON file written by baseline export (- for standard input)" };
        var import = new Command("import", "Merge an exported baseline into this one (counts add up)") { importFile, state };
        import.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            var file = parse.GetValue(importFile)!;
            var json = file == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file);
            using var store = StateStore.Open(StateOption.PathOf(parse, state));
            var n = new BaselineRepository(store).Import(json, file);
            stderr.WriteLine($"imdswatch: imported {n} baseline entr{(n == 1 ? "y" : "ies")}");
            return ExitCodes.Ok;
        }));

        command.Add(learn);
        command.Add(show);
        command.Add(forget);
        command.Add(export);
        command.Add(import);
        return command;
    }

    /// <summary>
    /// What makes an access look like an attack rather than normal use (the risk model's reasons for it), or nothing.
    /// A baseline that learned a /dev/tcp one-liner or a /tmp copy of the SSM agent would silence the attack itself.
    /// </summary>
    internal static IReadOnlyList<string> WhyRisky(Detection.MetadataAccess access, Alerts.RiskModel risk)
    {
        if (access.Alert is not { } alert)
            return [];
        var keys = new[] { "host.shell-socket", "host.writable-location", "host.obfuscated", "host.agent-impersonation", "host.role.web-server" };
        var prefixes = keys.Select(k => risk[k].Explain("\0").Split("\0")[0]).ToList();
        var why = alert.RiskReasons.Where(r => prefixes.Any(p => r.StartsWith(p, StringComparison.Ordinal))).ToList();
        if (why.Count == 0 && alert.Tags.Any(t => t is "agent-impersonation" or "ssrf" || t.StartsWith("evasion:", StringComparison.Ordinal)))
            why.Add(string.Join(", ", alert.Tags));
        return why;
    }

    private static void WarnRisky(List<(Detection.MetadataAccess Access, IReadOnlyList<string> Why)> risky, bool accept, TextWriter stderr)
    {
        if (risky.Count == 0)
            return;
        stderr.WriteLine(accept
            ? $"imdswatch: learning {risky.Count} access(es) that look like an attack, as --accept-risky asks:"
            : $"imdswatch: not learning {risky.Count} access(es) that look like an attack (a baseline that knew them would silence them); --accept-risky learns them:");
        foreach (var (access, why) in risky.Take(10))
        {
            var where = access.Evidence.Count > 0 ? $" ({access.Evidence[0].File}:{access.Evidence[0].Line})" : "";
            stderr.WriteLine(TerminalText.Escape($"  {access.Host ?? "(unnamed)"}: {access.ProgramKey} reached {access.Access.ToWire()}: {string.Join("; ", why)}{where}"));
        }
        if (risky.Count > 10)
            stderr.WriteLine($"  … and {risky.Count - 10} more");
    }
}
