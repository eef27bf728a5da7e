using ImdsWatch.Alerts.Output;

namespace ImdsWatch.Cli.Commands;

/// <summary>The writer for an output format name (table, csv; anything else is NDJSON).</summary>
internal static class AlertWriters
{
    public static IAlertWriter For(string? format, TextWriter stdout) => format switch
    {
        "table" => new TableAlertWriter(TableConsole.For(stdout)),
        "csv" => new CsvAlertWriter(),
        _ => new NdjsonAlertWriter(),
    };
}
