using System.Globalization;
using ImdsWatch.Indicators;
using Spectre.Console;

namespace ImdsWatch.Alerts.Output;

/// <summary>
/// The table for a person at a terminal: one line per alert at the console's width (severity, time, host, user,
/// process, what was reached, alert type), most severe first. With several hosts the alerts are grouped under a
/// line per host, the host with the worst alert first, and the host column is left out.
/// </summary>
public sealed class TableAlertWriter(IAnsiConsole console) : IAlertWriter
{
    public void Write(IReadOnlyList<Alert> alerts, TextWriter output)
    {
        if (alerts.Count == 0)
            return;
        var width = console.Profile.Width;
        var groups = Grouped(alerts);
        var byHost = groups.Count > 1;
        var longTime = width >= 100;
        var header = Columns(byHost, "SEVERITY", "TIME (UTC)", "HOST", "USER", "PROCESS", "REACHED", "TYPE");
        var t = longTime ? 19 : 14;
        int[] minimums = byHost ? [8, t, 4, 8, 10, 8] : [8, t, 6, 4, 8, 10, 8];
        var rows = groups.SelectMany(g => g.Alerts).Select(a => Row(a, byHost, longTime, shortType: false)).ToList();
        var layout = LineLayout.Fit([header, .. rows], minimums, width);
        if (layout.Widths[^1] < rows.Max(r => r[^1].Length))
        {
            // A cut type name would hide what tells them apart (MetadataAPIPro…): the short names instead.
            rows = [.. groups.SelectMany(g => g.Alerts).Select(a => Row(a, byHost, longTime, shortType: true))];
            layout = LineLayout.Fit([header, .. rows], minimums, width);
        }

        console.MarkupLine($"[bold]{Markup.Escape(Join(layout, header))}[/]");
        var next = 0;
        foreach (var group in groups)
        {
            if (byHost)
                console.MarkupLine($"[bold underline]{Markup.Escape(LineLayout.Cut(GroupTitle(group), width))}[/]");
            foreach (var a in group.Alerts)
            {
                var cells = layout.Cells(rows[next++]);
                var line = string.Join(layout.Gap, cells.Skip(1));
                console.MarkupLine($"[{SeverityStyle(a.Severity)}]{Markup.Escape(cells[0])}[/]{layout.Gap}{Markup.Escape(line)}");
            }
        }
    }

    /// <summary>Alerts by host, the host with the worst alert first; in each, most severe and riskiest first.</summary>
    internal static IReadOnlyList<(string Host, IReadOnlyList<Alert> Alerts)> Grouped(IReadOnlyList<Alert> alerts) =>
        alerts.GroupBy(a => a.Host ?? "", StringComparer.Ordinal)
            .Select(g => (Host: g.Key, Alerts: (IReadOnlyList<Alert>)g.OrderByDescending(a => a.Severity).ThenByDescending(a => a.RiskScore)
                .ThenBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList()))
            .OrderByDescending(g => g.Alerts[0].Severity).ThenByDescending(g => g.Alerts[0].RiskScore)
            .ThenByDescending(g => g.Alerts.Count).ThenBy(g => g.Host, StringComparer.Ordinal)
            .ToList();

    private static string GroupTitle((string Host, IReadOnlyList<Alert> Alerts) group)
    {
        var counts = group.Alerts.GroupBy(a => a.Severity).OrderByDescending(g => g.Key)
            .Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        var name = group.Host.Length == 0 ? "(no host name)" : TerminalText.Escape(group.Host);
        return $"{name}: {group.Alerts.Count} alert(s), {string.Join(", ", counts)}";
    }

    private static string[] Row(Alert a, bool byHost, bool longTime, bool shortType)
    {
        var time = a.Timestamp.UtcDateTime.ToString(longTime ? "yyyy-MM-dd HH:mm:ss" : "MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return Columns(byHost, $"{a.Severity.ToString().ToLowerInvariant()} {a.RiskScore}", time, E(a.Host ?? "-"), E(User(a)),
            E(Process(a)), E(Reached(a)), shortType ? ShortName(a.AlertType) : a.AlertType.ToString());
    }

    /// <summary>The part of the type's name that tells it from the others, for narrow terminals.</summary>
    public static string ShortName(AlertType type) => type switch
    {
        AlertType.MetadataAPIProcess => "process",
        AlertType.MetadataAPINetwork => "network",
        AlertType.MetadataSSRFAttempt => "ssrf",
        AlertType.InstanceCredentialExfiltration => "exfiltration",
        AlertType.IMDSv1CredentialDelivery => "imdsv1",
        AlertType.MetadataCredentialsUsed => "creds-used",
        AlertType.CredentialTheftChain => "theft-chain",
        AlertType.UnusualMetadataUser => "rare-user",
        AlertType.UnusualMetadataProcess => "rare-process",
        _ => type.ToString(),
    };

    private static string[] Columns(bool byHost, string severity, string time, string host, string user, string process, string reached, string type) =>
        byHost ? [severity, time, user, process, reached, type] : [severity, time, host, user, process, reached, type];

    private static string Join(LineLayout layout, IReadOnlyList<string> row) => string.Join(layout.Gap, layout.Cells(row));

    private static string User(Alert a)
    {
        if (a.Process.IsNone)
            return a.Cloud?.PrincipalArn is { } arn ? arn[(arn.LastIndexOf('/') + 1)..] : "-";
        var user = a.Process.User.Name ?? a.Process.User.Uid?.ToString(CultureInfo.InvariantCulture) ?? "?";
        return a.Process.User.AuditName is { } login && login != "unset" && login != user ? $"{login}>{user}" : user;
    }

    private static string Process(Alert a) => a.Process.IsNone
        ? a.Cloud?.RoleName is { } role ? $"role {role}" : a.Source is { } client ? $"client {client}" : "-"
        : $"{Path.GetFileName(a.Process.Executable ?? a.Process.Name ?? "?")}[{a.Process.Pid}]";

    private static string Reached(Alert a)
    {
        var where = a.Cloud?.SourceIp is { } from ? $"from {from}"
            : a.DestinationIp is { } ip ? $"{ip}{(a.DestinationPort is { } p and not 80 ? ":" + p.ToString(CultureInfo.InvariantCulture) : "")}"
            : a.CloudProvider ?? "";
        return $"{a.Access.ToWire()} {where}".TrimEnd();
    }

    private static string E(string text) => TerminalText.Escape(text);

    private static string SeverityStyle(Severity s) => s switch
    {
        Severity.Critical => "bold white on red",
        Severity.High => "bold red",
        Severity.Medium => "yellow",
        _ => "grey",
    };
}
