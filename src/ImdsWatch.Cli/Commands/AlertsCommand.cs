using System.CommandLine;
using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Indicators;
using ImdsWatch.Store;
using Spectre.Console;

namespace ImdsWatch.Cli.Commands;

/// <summary><c>imdswatch alerts list|show ID|ack ID</c>: the alerts the runner raised, and an analyst's notes for one.</summary>
public static class AlertsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var state = StateOption.Create();
        var command = new Command("alerts", "List, investigate and acknowledge stored alerts");

        var all = new Option<bool>("--all") { Description = "Include acknowledged alerts" };
        var host = new Option<string?>("--host") { Description = "Only this host" };
        var limit = new Option<int>("--limit") { Description = "At most this many", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List stored alerts, newest first") { state, all, host, limit };
        list.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            using var store = StateStore.Open(StateOption.PathOf(parse, state));
            var alerts = new AlertRepository(store).List(parse.GetValue(all), parse.GetValue(limit), parse.GetValue(host));
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var c in new[] { "Id", "Time (UTC)", "Severity", "Type", "Host", "Summary", "Ack" })
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
            stdout.WriteLine($"{alerts.Count} alert(s)");
            return ExitCodes.Ok;
        }));

        var showId = new Argument<string>("id") { Description = "Alert id (or a unique prefix)" };
        var show = new Command("show", "Investigation notes for one alert: who, logins, process tree, what was requested, response steps") { showId, state };
        show.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            using var store = StateStore.Open(StateOption.PathOf(parse, state));
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
            using var store = StateStore.Open(StateOption.PathOf(parse, state));
            var alert = Find(store, parse.GetValue(ackId)!);
            new AlertRepository(store).Acknowledge(alert.Id, parse.GetValue(note), DateTimeOffset.UtcNow);
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

    private static StoredAlert Find(StateStore store, string id)
    {
        var alert = new AlertRepository(store).Find(id, out var matches);
        return alert ?? throw new KeyNotFoundException(matches > 1 ? $"alert id '{id}' is ambiguous: give more of it" : $"no alert '{id}' in {store.Path}");
    }

    /// <summary>Adds the alert's user and program to the baseline, as if seen in normal use.</summary>
    private static void LearnFrom(StoredAlert stored, StateStore store)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(stored.Json);
        var root = doc.RootElement;
        var process = root.GetProperty("process");
        var user = root.GetProperty("user");
        var snapshot = new ProcessSnapshot
        {
            Pid = process.GetProperty("pid").GetInt32(),
            Executable = process.TryGetProperty("executable", out var exe) ? exe.GetString() : null,
            User = new UserIdentity(user.TryGetProperty("id", out var id) ? long.Parse(id.GetString()!, CultureInfo.InvariantCulture) : null,
                user.TryGetProperty("name", out var name) ? name.GetString() : null, null, null, null, null),
        };
        var access = new MetadataAccess
        {
            Host = stored.Host, Timestamp = stored.Time, Process = snapshot, ProgramKey = root.GetProperty("imds").TryGetProperty("program", out var program) ? program.GetString()! : snapshot.Executable ?? "?",
            Access = AccessClassNames.Parse(root.GetProperty("imds").GetProperty("access").GetString()), Role = ProgramRole.Other, Interactive = false,
        };
        new BaselineRepository(store).Learn([access]);
    }
}
