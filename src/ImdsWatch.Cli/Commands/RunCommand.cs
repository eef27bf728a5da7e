using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Config;
using ImdsWatch.Runner;
using ImdsWatch.Store;
using Microsoft.Data.Sqlite;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// <c>imdswatch run</c>: the scheduled rule. Every --interval, evaluate every rule over --lookback of the live
/// logs, raise at most --max-alerts new alerts, store them; --once for cron, --follow to keep going.
/// </summary>
public static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var paths = new Argument<string[]>("log") { Arity = ArgumentArity.OneOrMore, Description = "Live audit logs, e.g. /var/log/audit/audit.log (rotated files beside them are followed)" };
        var interval = new Option<TimeSpan>("--interval") { Description = "How often to evaluate (with --follow)", DefaultValueFactory = _ => TimeSpan.FromMinutes(15), CustomParser = DurationArgument };
        var lookback = new Option<TimeSpan>("--lookback") { Description = "How far back each evaluation looks", DefaultValueFactory = _ => TimeSpan.FromMinutes(45), CustomParser = DurationArgument };
        var maxAlerts = new Option<int>("--max-alerts") { Description = "At most this many new alerts a run", DefaultValueFactory = _ => 100 };
        var once = new Option<bool>("--once") { Description = "Evaluate once and exit (for cron or a systemd timer)" };
        var follow = new Option<bool>("--follow") { Description = "Evaluate every --interval until stopped" };
        var now = new Option<DateTimeOffset?>("--now")
        {
            Description = "Evaluate as if it were this time (replaying old logs), e.g. 2026-11-24T10:30:00Z",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                    return t;
                r.AddError($"--now: '{text}' is not a date and time (e.g. 2026-11-24T10:30:00Z)");
                return null;
            },
        };
        var format = new Option<string?>("--format") { Description = "table | ndjson (json) | csv for the new alerts (default: table on a terminal, ndjson when redirected, as under systemd)" };
        format.AcceptOnlyFromAmong("ndjson", "json", "table", "csv");
        var config = new Option<string?>("--config", "-c") { Description = "YAML configuration" };
        var noLearn = new Option<bool>("--no-learn") { Description = "Do not add silent accesses (agents, known programs) to the baseline" };
        var host = new Option<string?>("--host") { Description = "Host name for records without node= (default: from config, else none)" };
        var minSeverity = new Option<string?>("--min-severity") { Description = "Raise only alerts at or above: low | medium | high | critical" };
        var awsRanges = new Option<string?>("--aws-ip-ranges") { Description = "AWS ip-ranges.json: instance credentials used from outside AWS are exfiltration" };
        var state = StateOption.Create();
        var command = new Command("run", "Run the rules on a schedule over live audit logs (15 min interval, 45 min look-back, 100 alerts a run)")
        {
            paths, interval, lookback, maxAlerts, once, follow, now, format, config, noLearn, host, minSeverity, awsRanges, state,
        };
        command.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            if (parse.GetValue(once) == parse.GetValue(follow))
                throw new InvalidDataException("say --once (cron, a timer) or --follow (keep running)");
            if (parse.GetValue(maxAlerts) < 1)
                throw new InvalidDataException("--max-alerts must be at least 1");
            var cfg = EffectiveConfig.Build(parse.GetValue(config), new ConfigFlags
            {
                Host = parse.GetValue(host),
                MinSeverity = parse.GetValue(minSeverity),
                AwsIpRanges = parse.GetValue(awsRanges),
            });
            var options = new RunOptions
            {
                Interval = parse.GetValue(interval),
                Lookback = parse.GetValue(lookback),
                MaxAlerts = parse.GetValue(maxAlerts),
                Learn = !parse.GetValue(noLearn),
            };
            using var store = StateStore.Open(StateOption.PathOf(parse, state));
            var runner = new ScheduledRunner(store, cfg, options);
            var logs = (parse.GetValue(paths) ?? []).Select(Path.GetFullPath).ToList();
            if (logs.Select(IncrementalReader.Refusal).OfType<string>().ToList() is { Count: > 0 } refused)
            {
                foreach (var r in refused)
                    stderr.WriteLine($"imdswatch run: {r}");
                return ExitCodes.Usage;
            }

            // Interrupts (Main) holds the signals from the start, so one sent while the run starts is not lost.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Interrupts.Token);
            try
            {
                do
                {
                    var report = runner.RunOnce(logs, parse.GetValue(now) ?? DateTimeOffset.UtcNow, AlertWriters.Sink(parse.GetValue(format) ?? AlertWriters.DefaultFormat(stdout), stdout), stop.Token);
                    Report(report, options, stderr);
                    if (parse.GetValue(once))
                        break;
                    stop.Token.WaitHandle.WaitOne(options.Interval);
                }
                while (!stop.IsCancellationRequested);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Nothing of the abandoned run was stored: the next run reads and raises it again.
                stderr.WriteLine($"imdswatch run: {Interrupts.Name(Interrupts.Received ?? PosixSignal.SIGTERM)} during a run: stopped; nothing of this run was stored, the next run reads its logs again");
                return Interrupts.ExitCode(Interrupts.Received ?? PosixSignal.SIGTERM);
            }
            catch (SqliteException e)
            {
                stderr.WriteLine($"imdswatch run: cannot write the state {store.Path}: {e.Message}; the alerts printed by this run were not stored and the next run prints them again");
                return ExitCodes.Usage;
            }
            if (Interrupts.Received is { } signal)
            {
                stderr.WriteLine($"imdswatch run: {Interrupts.Name(signal)}: stopped between runs");
                return Interrupts.ExitCode(signal);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Report(RunReport r, RunOptions o, TextWriter err)
    {
        err.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"imdswatch run {r.Now:yyyy-MM-dd HH:mm:ss}Z: window {o.Lookback.TotalMinutes:0} min, read {r.Scan.Files.Count} segment(s), {r.Scan.Bytes / 1e6:0.0} MB; "
            + $"{r.Raised.Count} new alert(s), {r.AlreadyRaised} raised by earlier runs, {r.Silenced} known and silent"));
        foreach (var w in r.Warnings)
            err.WriteLine($"imdswatch run: warning: {TerminalText.Escape(w)}");
        if (r.LearningHosts.Count > 0)
            err.WriteLine($"imdswatch run: anomaly rules still learning for {string.Join(", ", r.LearningHosts.Select(h => h.Length == 0 ? "(unnamed host)" : TerminalText.Escape(h)))}");
        if (r.Scan.IssueCount > 0)
            err.WriteLine($"imdswatch run: {r.Scan.IssueCount} line(s) could not be read, e.g. {r.Scan.Issues[0]}");
    }

    /// <summary>A duration option's value, or a parse error naming the option (never an exception out of the parser).</summary>
    private static TimeSpan DurationArgument(System.CommandLine.Parsing.ArgumentResult r)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        try
        {
            return ParseDuration(text);
        }
        catch (FormatException e)
        {
            r.AddError($"{(r.Parent as System.CommandLine.Parsing.OptionResult)?.Option.Name ?? "duration"}: {e.Message}");
            return default;
        }
    }

    /// <summary>15m, 45m, 1h, 90s, 2d, or a TimeSpan such as 00:15:00.</summary>
    internal static TimeSpan ParseDuration(string s)
    {
        if (s.Length > 1 && double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            switch (s[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
            }
        }
        if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var t) && t > TimeSpan.Zero)
            return t;
        throw new FormatException($"'{s}' is not a duration (examples: 15m, 45m, 1h, 2d)");
    }
}
