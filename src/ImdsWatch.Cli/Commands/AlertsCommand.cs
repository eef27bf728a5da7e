using System.CommandLine;
using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Indicators;
using ImdsWatch.Reports;
using ImdsWatch.Store;
using Spectre.Console;

namespace ImdsWatch.Cli.Commands;

/// <summary><c>imdswatch alerts list|show ID|ack ID</c>: the alerts the runner raised, and an analyst's notes for one.</summary>
public static class AlertsCommand
{
    private static readonly string[] ListColumns = ["Id", "Time (UTC)", "Severity", "Type", "Host", "Summary", "Ack"];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var state = StateOption.Create();
        var command = new Command("alerts", "List, investigate and acknowledge stored alerts");

        var all = new Option<bool>("--all") { Description = "Include acknowledged alerts" };
        var host = new Option<string?>("--host") { Description = "Only this host" };
        var limit = new Option<int>("--limit") { Description = "At most this many", DefaultValueFactory = _ => 50 };
        var format = new Option<string>("--format", "-f") { Description = "table | json | ndjson (the alerts as raised, one per line)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "ndjson");
        var list = new Command("list", "List stored alerts, newest first") { state, all, host, limit, format };
        list.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            using var store = StateStore.OpenExisting(StateOption.PathOf(parse, state));
            var repository = new AlertRepository(store);
            var alerts = repository.List(parse.GetValue(all), parse.GetValue(limit), parse.GetValue(host));
            var total = repository.Count(parse.GetValue(all), parse.GetValue(host));
            if (parse.GetValue(format) != "table")
            {
                WriteJson(alerts, total, parse.GetValue(format) == "ndjson", stdout);
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var c in ListColumns)
                table.AddColumn(c);
            foreach (var a in alerts)
            {
                var summary = TerminalText.Escape(a.Summary); // log text: no control reaches the terminal
                table.AddRow(Markup.Escape(TerminalText.Escape(a.Id)), a.Time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), $"{a.Severity} {a.Risk}",
                    Markup.Escape(TerminalText.Escape(a.AlertType)), Markup.Escape(TerminalText.Escape(a.Host ?? "-")),
                    Markup.Escape(summary.Length > 110 ? summary[..110] + "…" : summary),
                    a.AcknowledgedAt is null ? "" : "yes");
            }
            TableConsole.For(stdout).Write(table);
            stdout.WriteLine(alerts.Count < total ? $"{alerts.Count} of {total} alert(s) (--limit {parse.GetValue(limit)}; --limit {total} shows all)" : $"{alerts.Count} alert(s)");
            return ExitCodes.Ok;
        }));

        var showId = new Argument<string>("id") { Description = "Alert id (or a unique prefix)" };
        var show = new Command("show", "Investigation notes for one alert: who, logins, process tree, what was requested, response steps") { showId, state };
        show.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            using var store = StateStore.OpenExisting(StateOption.PathOf(parse, state));
            var alert = Find(store, parse.GetValue(showId)!);
            stdout.Write(Investigation.Write(alert, store));
            return ExitCodes.Ok;
        }));

        var ackId = new Argument<string>("id") { Description = "Alert id (or a unique prefix)" };
        var note = new Option<string?>("--note") { Description = "Why it was closed" };
        var learn = new Option<bool>("--learn") { Description = "It was legitimate: add its user and program to the baseline" };
        var ack = new Command("ack", "Acknowledge an alert") { ackId, note, learn, state };
        ack.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            using var store = StateStore.OpenExisting(StateOption.PathOf(parse, state));
            var alert = Find(store, parse.GetValue(ackId)!);
            new AlertRepository(store).Acknowledge(alert.Id, parse.GetValue(note), DateTimeOffset.UtcNow, LoginName());
            if (parse.GetValue(learn))
                LearnFrom(alert, store);
            stderr.WriteLine($"imdswatch: acknowledged {alert.Id}{(parse.GetValue(learn) ? "; its user and program are now in the baseline" : "")}");
            return ExitCodes.Ok;
        }));

        command.Add(list);
        command.Add(show);
        command.Add(ack);
        return command;
    }

    /// <summary>Who acknowledges: the login name behind sudo, else the user running the command.</summary>
    private static string LoginName() =>
        Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;

    /// <summary>The alerts as raised (the NDJSON of scan, from the stored record), with the total when listing.</summary>
    private static void WriteJson(List<StoredAlert> alerts, int total, bool ndjson, TextWriter stdout)
    {
        var writer = new Alerts.Output.NdjsonAlertWriter();
        var known = alerts.Select(a => a.Alert).OfType<Alert>().ToList();
        if (ndjson)
        {
            writer.Write(known, stdout);
            return;
        }
        var items = new System.Text.Json.Nodes.JsonArray();
        foreach (var a in known)
            items.Add(System.Text.Json.Nodes.JsonNode.Parse(Alerts.Output.NdjsonAlertWriter.ToJson(a)));
        var doc = new System.Text.Json.Nodes.JsonObject { ["total"] = total, ["shown"] = known.Count, ["alerts"] = items };
        stdout.WriteLine(doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    private static StoredAlert Find(StateStore store, string id)
    {
        var alert = new AlertRepository(store).Find(id, out var matches);
        return alert ?? throw new KeyNotFoundException(matches > 1 ? $"alert id '{id}' is ambiguous: give more of it" : $"no alert '{id}' in {store.Path}");
    }

    /// <summary>Adds the alert's user and program to the baseline, as if seen in normal use.</summary>
    private static void LearnFrom(StoredAlert stored, StateStore store)
    {
        var alert = stored.Alert ?? throw new InvalidDataException($"alert {stored.Id} was stored by another version of imdswatch: its program and user cannot be learned");
        var access = new MetadataAccess
        {
            Host = alert.Host,
            Timestamp = alert.Timestamp,
            Process = alert.Process,
            ProgramKey = alert.ProgramKey ?? alert.Process.Executable ?? "?",
            Access = alert.Access,
            Role = ProgramRole.Other,
            Interactive = false,
        };
        new BaselineRepository(store).Learn([access]);
    }
}
