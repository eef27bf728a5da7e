using ImdsWatch.Alerts.Output;
using ImdsWatch.Sinks;

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

    /// <summary>The output format as a pipeline sink (the table takes every alert at once).</summary>
    public static IAlertSink Sink(string? format, TextWriter stdout) =>
        new WriterSink(For(format, stdout), stdout, format == "table" ? int.MaxValue : 256);
}
