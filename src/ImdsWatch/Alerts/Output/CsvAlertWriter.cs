using System.Globalization;
using ImdsWatch.Indicators;

namespace ImdsWatch.Alerts.Output;

/// <summary>One row per alert (RFC 4180 quoting, formula-safe, controls escaped), the columns an analyst sorts by.</summary>
public sealed class CsvAlertWriter : IAlertWriter
{
    private static readonly string[] Header =
    [
        "timestamp", "id", "alert_type", "severity", "risk_score", "access", "host", "user", "uid", "auid", "pid", "ppid",
        "process", "executable", "command_line", "destination_ip", "destination_port", "url", "cloud_provider", "tags", "evidence",
    ];

    public void Write(IReadOnlyList<Alert> alerts, TextWriter output)
    {
        output.WriteLine(string.Join(',', Header));
        foreach (var a in alerts)
        {
            string?[] row =
            [
                a.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), a.Id, a.AlertType.ToString(),
                a.Severity.ToString().ToLowerInvariant(), a.RiskScore.ToString(CultureInfo.InvariantCulture), a.Access.ToWire(),
                a.Host, a.Process.User.Name, a.Process.User.Uid?.ToString(CultureInfo.InvariantCulture),
                a.Process.User.AuditUid?.ToString(CultureInfo.InvariantCulture), a.Process.Pid.ToString(CultureInfo.InvariantCulture),
                a.Process.ParentPid?.ToString(CultureInfo.InvariantCulture), a.Process.Name, a.Process.Executable, a.Process.CommandLine,
                a.DestinationIp?.ToString(), a.DestinationPort?.ToString(CultureInfo.InvariantCulture), a.Url, a.CloudProvider,
                string.Join(' ', a.Tags), string.Join(' ', a.Evidence.Select(e => $"{e.File}:{e.Line}")),
            ];
            output.WriteLine(string.Join(',', row.Select(Quote)));
        }
    }

    internal static string Quote(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        // A leading = + - @ TAB or CR would run as a formula in a spreadsheet: prefix it (OWASP CSV injection).
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            value = "'" + value;
        // Controls (a raw ESC among them) are written as escapes, as on a terminal: the file is read by people too.
        value = TerminalText.Escape(value);
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
