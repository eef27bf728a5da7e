using ImdsWatch.Indicators;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ImdsWatch.Alerts.Output;

/// <summary>A table for a person at a terminal: when, where, who, what was reached, how bad.</summary>
public sealed class TableAlertWriter(IAnsiConsole console) : IAlertWriter
{
    public void Write(IReadOnlyList<Alert> alerts, TextWriter output)
    {
        if (alerts.Count == 0)
            return;
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("Time (UTC)");
        table.AddColumn("Severity");
        table.AddColumn("Type");
        table.AddColumn("Host");
        table.AddColumn("User");
        table.AddColumn("Process");
        table.AddColumn("Reached");
        table.AddColumn(new TableColumn("Command / evidence"));
        foreach (var a in alerts)
        {
            // Every value from a log is escaped before the writer joins values with its own line breaks.
            var user = E(a.Process.User.Name ?? a.Process.User.Uid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?");
            if (a.Process.User.AuditName is { } login && login != "unset" && login != a.Process.User.Name)
                user += $" (login {E(login)})";
            var process = E(a.Process.IsNone
                ? a.Cloud?.RoleName is { } role ? $"role {role}" : a.Source is { } client ? $"client {client}" : "-"
                : $"{Path.GetFileName(a.Process.Executable ?? a.Process.Name ?? "?")} [{a.Process.Pid}]");
            var where = E(a.Cloud?.SourceIp is { } from ? $"from {from}" : $"{a.DestinationIp?.ToString() ?? "?"}{(a.DestinationPort is { } p ? ":" + p : "")}");
            var reached = $"{a.Access.ToWire()}\n{where}{(a.CloudProvider is { } cp ? " " + E(cp) : "")}";
            var command = E(a.Process.IsNone ? a.Summary : a.Process.CommandLine);
            if (command.Length > 120)
                command = command[..120] + "…";
            var pointer = a.Evidence.Count > 0 ? E($"{a.Evidence[0].File}:{a.Evidence[0].Line}") : "";
            var tags = E(string.Join(' ', a.Tags.Where(t => t != "first-seen" && !t.StartsWith("includes:", StringComparison.Ordinal))));
            table.AddRow(
                new Text(a.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)),
                SeverityMarkup(a),
                new Text(a.AlertType.ToString() + (a.Layers.Count > 1 ? "\n+network" : "")),
                new Text(E(a.Host ?? "-")),
                new Text(user),
                new Text(process),
                new Text(reached),
                new Text($"{command}\n{tags} {pointer}".TrimEnd()));
        }
        console.Write(table);
    }

    private static string E(string? text) => TerminalText.Escape(text);

    private static Markup SeverityMarkup(Alert a)
    {
        var color = a.Severity switch
        {
            Severity.Critical => "bold white on red",
            Severity.High => "bold red",
            Severity.Medium => "yellow",
            _ => "grey",
        };
        return new Markup($"[{color}]{a.Severity.ToString().ToLowerInvariant()}[/] {a.RiskScore}");
    }
}
