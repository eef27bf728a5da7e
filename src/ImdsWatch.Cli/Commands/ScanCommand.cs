using System.CommandLine;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Store;
using Spectre.Console;

namespace ImdsWatch.Cli.Commands;

/// <summary><c>imdswatch scan PATH...</c>: report every metadata-service access in audit logs.</summary>
public static class ScanCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var paths = new Argument<string[]>("path")
        {
            Description = "Audit log files, directories (rotated logs read oldest first), globs, .gz files, or - for standard input",
            Arity = ArgumentArity.OneOrMore,
        };
        var format = new Option<string?>("--format", "-f") { Description = "table | ndjson (json) | csv (default: table on a terminal, ndjson when redirected)" };
        format.AcceptOnlyFromAmong("table", "ndjson", "json", "csv");
        var wide = new Option<bool>("--wide") { Description = "With the table: every alert in detail over several lines (command line, tags, evidence)" };
        var config = new Option<string?>("--config", "-c") { Description = "YAML configuration: extra agents, indicators, host name" };
        var failOnAlert = new Option<bool>("--fail-on-alert") { Description = "Exit 1 when any alert is raised" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No summary or progress on standard error" };
        var host = new Option<string?>("--host") { Description = "Host name for records without node= (default: from config, else none)" };
        var minSeverity = new Option<string?>("--min-severity") { Description = "Report only alerts at or above: low | medium | high | critical" };
        minSeverity.AcceptOnlyFromAmong("low", "medium", "high", "critical");
        var verbose = new Option<bool>("--verbose", "-v") { Description = "List every parse issue and ignored mention on standard error" };
        var noPrefilter = new Option<bool>("--no-prefilter") { Description = "Parse every audit record fully (slower; the prefilter never changes the alerts)" };
        var awsRanges = new Option<string?>("--aws-ip-ranges") { Description = "AWS ip-ranges.json: instance credentials used from outside AWS are exfiltration (GuardDuty's OutsideAWS)" };
        var state = StateOption.Create();
        var noBaseline = new Option<bool>("--no-baseline") { Description = "Ignore the baseline in the state database" };

        var command = new Command("scan", "Find every metadata-service access recorded in Linux audit logs")
        {
            paths, format, wide, config, failOnAlert, quiet, host, minSeverity, verbose, state, noBaseline, awsRanges, noPrefilter,
        };
        command.SetAction(parse =>
        {
            var options = new ScanOptions(
                parse.GetValue(paths) ?? [], parse.GetValue(format), parse.GetValue(config), parse.GetValue(failOnAlert),
                parse.GetValue(quiet), parse.GetValue(host), parse.GetValue(minSeverity), parse.GetValue(verbose))
            {
                StatePath = parse.GetValue(noBaseline) ? null : StateOption.PathOf(parse, state),
                AwsIpRanges = parse.GetValue(awsRanges),
                Prefilter = !parse.GetValue(noPrefilter),
                Wide = parse.GetValue(wide),
            };
            return Run(options, stdout, stderr);
        });
        return command;
    }

    public sealed record ScanOptions(string[] Paths, string? Format, string? Config, bool FailOnAlert, bool Quiet,
        string? Host, string? MinSeverity, bool Verbose)
    {
        /// <summary>The state database whose baseline the scan consults, when it exists.</summary>
        public string? StatePath { get; init; }

        public string? AwsIpRanges { get; init; }

        public bool Prefilter { get; init; } = true;

        public bool Wide { get; init; }
    }

    public static int Run(ScanOptions o, TextWriter stdout, TextWriter stderr)
    {
        EffectiveConfig config;
        try
        {
            config = EffectiveConfig.Build(o.Config, new ConfigFlags { Host = o.Host, MinSeverity = o.MinSeverity, AwsIpRanges = o.AwsIpRanges, Prefilter = o.Prefilter });
        }
        catch (Exception e) when (e is InvalidDataException or IOException or System.Text.Json.JsonException)
        {
            stderr.WriteLine($"imdswatch: {e.Message}");
            return ExitCodes.Usage;
        }

        var sources = InputResolver.Resolve(o.Paths, out var errors, out var notLogs, out var refused);
        foreach (var error in errors.Concat(refused))
            stderr.WriteLine($"imdswatch: {error}");
        if (sources.Count == 0 && (errors.Count > 0 || refused.Count > 0))
            return ExitCodes.Usage; // nothing readable; otherwise the readable paths are scanned and the exit says some were not
        if (!o.Quiet && notLogs.Count > 0)
            stderr.WriteLine($"imdswatch: skipped {notLogs.Count} file(s) in no format imdswatch reads: {string.Join(", ", notLogs.Take(5))}{(notLogs.Count > 5 ? ", …" : "")}");

        BaselineSnapshot? baseline = null;
        if (o.StatePath is not null && File.Exists(o.StatePath))
        {
            using var store = StateStore.Open(o.StatePath);
            baseline = new BaselineRepository(store).Snapshot();
        }

        var format = o.Format ?? AlertWriters.DefaultFormat(stdout);
        ScanResult result;
        using var heap = new ScanHeap(); // this process runs one scan: the scanner sets the heap aside for pass one
        using (var output = new BatchOutput(stdout))
        {
            var sink = AlertWriters.Sink(format, output.Writer, o.Wide);
            try
            {
                heap.Expect(sources); // a set of rotated logs sets the heap aside from its first file on
                var total = sources.Sum(s => s.Length ?? 0);
                var showProgress = !o.Quiet && !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error) && total > (64L << 20);
                result = showProgress
                    ? ScanWithProgress(progress => config.Pipeline(baseline, heap, progress), sources, sink, total, stderr)
                    : config.Pipeline(baseline, heap).Run(sources, sink);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                stderr.WriteLine($"imdswatch: {e.Message}");
                return ExitCodes.Usage;
            }
        }

        if (!o.Quiet)
        {
            ScanSummary.Write(result, stderr, o.Verbose);
            if (baseline is { IsEmpty: false })
            {
                var anomalies = result.Tally.ByType(AnomalyRules.UnusualUser) + result.Tally.ByType(AnomalyRules.UnusualProcess);
                var learning = result.Detection.LearningHosts;
                stderr.WriteLine($"imdswatch: baseline {o.StatePath}: {result.SilencedByBaseline} access(es) known and silent, {anomalies} anomaly alert(s)"
                    + (learning.Count > 0 ? $"; still learning (under {config.Anomaly.LearningPeriod.TotalDays:0} days of history): {string.Join(", ", learning.Select(h => h.Length == 0 ? "(unnamed)" : h))}" : ""));
            }
        }
        if (!o.Quiet)
        {
            foreach (var (file, stats) in result.Files.Zip(result.Inputs).Where(f => f.Second.Note is not null))
                stderr.WriteLine($"imdswatch: {TerminalText.Escape(file)}: {stats.Note}");
        }
        var damaged = result.Files.Zip(result.Inputs).Where(f => f.Second.Unreadable is not null).ToList();
        foreach (var (file, stats) in damaged)
            stderr.WriteLine($"imdswatch: {TerminalText.Escape(file)}: {stats.Unreadable}");
        if (errors.Count > 0 || refused.Count > 0 || damaged.Count > 0)
        {
            if (!o.Quiet)
                stderr.WriteLine($"imdswatch: {errors.Count + refused.Count + damaged.Count} path(s) not read or not read to the end (above); the others were scanned");
            return ExitCodes.Usage; // the other paths were read and reported; the failed ones still need the user
        }
        return o.FailOnAlert && result.Tally.Reported > 0 ? ExitCodes.AlertsOrFailures : ExitCodes.Ok;
    }

    private static ScanResult ScanWithProgress(Func<Action<long, InputSource>, DetectionPipeline> pipeline,
        IReadOnlyList<InputSource> sources, IAlertSink sink, long total, TextWriter stderr)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr) });
        using var cursor = TableConsole.RestoreCursorOnExit(stderr); // the progress display hides it
        ScanResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("scanning", maxValue: total);
                result = pipeline((bytes, source) =>
                {
                    task.Value = Math.Min(bytes, total);
                    task.Description = Markup.Escape(Path.GetFileName(source.Name));
                }).Run(sources, sink);
                task.Value = total;
            });
        return result!;
    }
}
