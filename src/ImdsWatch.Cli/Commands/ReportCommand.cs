using System.CommandLine;
using ImdsWatch.Config;
using ImdsWatch.Reports;
using ImdsWatch.Sources.Input;
using ImdsWatch.Store;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// <c>imdswatch report [--out FILE.html] PATH…|--state FILE</c>: one self-contained HTML page of the alerts in logs
/// or in a state database, with each alert's chain, process tree, evidence and investigation guide.
/// </summary>
public static class ReportCommand
{
    public const string DefaultFile = "imdswatch-report.html";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var paths = new Argument<string[]>("path") { Arity = ArgumentArity.ZeroOrMore, Description = "Logs to scan (as scan reads them); or none, with --state" };
        var state = new Option<string?>("--state") { Description = "Report the alerts stored in this state database instead of scanning logs" };
        var output = new Option<string?>("--out", "-o") { Description = $"HTML file to write (- for standard output; default {DefaultFile}, or standard output when it is not a terminal)" };
        var config = new Option<string?>("--config", "-c") { Description = "YAML configuration (agents, indicators, host name)" };
        var host = new Option<string?>("--host") { Description = "Host name for records without node=" };
        var command = new Command("report", "Write one self-contained HTML report: alerts by severity and host, a timeline, and per alert its chain, process tree, evidence and investigation guide")
        {
            paths, state, output, config, host,
        };
        command.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            var specs = parse.GetValue(paths) ?? [];
            var statePath = parse.GetValue(state);
            if ((specs.Length == 0) == (statePath is null))
                throw new InvalidDataException("report: give the logs to scan (PATH…) or a state database (--state FILE), one of the two");
            var (items, source) = statePath is not null
                ? FromState(statePath)
                : FromLogs(specs, parse.GetValue(config), parse.GetValue(host), stderr);
            var html = HtmlReport.Render(items, source, DateTimeOffset.UtcNow);

            var target = parse.GetValue(output) ?? (ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected ? DefaultFile : "-");
            if (target == "-")
                stdout.Write(html);
            else
            {
                File.WriteAllText(target, html);
                stderr.WriteLine($"imdswatch: report of {items.Count} alert(s) written to {target}");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static (List<(StoredAlert, string)> Items, string Source) FromState(string path)
    {
        using var store = StateStore.OpenExisting(path);
        var alerts = new AlertRepository(store).List(includeAcknowledged: true, limit: 10_000);
        return ([.. alerts.Select(a => (a, Investigation.Write(a, store)))], path);
    }

    /// <summary>The most alerts one report shows (the latest): a page past this is not one anyone reads.</summary>
    public const int MaxAlerts = 100_000;

    /// <summary>
    /// Scans the logs into a private scratch store (alerts as they are raised, logins) that the guide reads, so the
    /// scan holds no alert in memory; the store is removed after.
    /// </summary>
    private static (List<(StoredAlert, string)> Items, string Source) FromLogs(string[] specs, string? configFile, string? host, TextWriter stderr)
    {
        var config = EffectiveConfig.Build(configFile, new ConfigFlags { Host = host });
        var sources = InputResolver.Resolve(specs, out var errors);
        if (errors.Count > 0)
            throw new InvalidDataException(string.Join("\nimdswatch: ", errors));
        var scratch = Directory.CreateTempSubdirectory("imdswatch-report-");
        try
        {
            using var store = StateStore.Open(Path.Combine(scratch.FullName, "state.db"));
            var repository = new AlertRepository(store);
            var stored = new StoringSink(repository, DateTimeOffset.UtcNow);
            Pipeline.ScanResult result;
            using (var tx = store.Begin())
            {
                // Every alert, as the report always showed, whatever minimum severity the configuration sets.
                result = config.Pipeline().WithMinimumSeverity(Alerts.Severity.Low).Run(sources, stored);
                tx.Commit();
            }
            new SessionRepository(store).Add(result.Sessions);
            if (result.IssueCount > 0)
                stderr.WriteLine($"imdswatch: {result.IssueCount} line(s) could not be read (imdswatch scan --verbose lists them)");
            if (stored.Count > MaxAlerts)
                stderr.WriteLine($"imdswatch: the report shows the {MaxAlerts} latest of {stored.Count} alerts (imdswatch scan --format ndjson lists every one)");
            var items = repository.List(includeAcknowledged: true, limit: MaxAlerts).Select(a => (a, Investigation.Write(a, store))).ToList();
            return (items, string.Join(", ", specs));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Each alert into the scratch store as it is raised.</summary>
    private sealed class StoringSink(AlertRepository repository, DateTimeOffset now) : Sinks.IAlertSink
    {
        public long Count { get; private set; }

        public void Emit(Alerts.Alert alert)
        {
            if (repository.TryAdd(alert, now))
                Count++;
        }

        public void Complete()
        {
        }
    }
}
