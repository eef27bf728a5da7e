using ImdsWatch.Alerts.Output;
using ImdsWatch.Sinks;

namespace ImdsWatch.Cli.Commands;

/// <summary>The writer for an output format name (table, csv; anything else is NDJSON).</summary>
internal static class AlertWriters
{
    /// <summary>A table for a person at a terminal, NDJSON for a pipe, a file or the journal.</summary>
    public static string DefaultFormat(TextWriter stdout) =>
        Console.IsOutputRedirected || !ReferenceEquals(stdout, Console.Out) ? "ndjson" : "table";

    public static IAlertWriter For(string? format, TextWriter stdout, bool wide = false) => format switch
    {
        "table" when wide => new WideTableAlertWriter(TableConsole.For(stdout)),
        "table" => new TableAlertWriter(TableConsole.For(stdout)),
        "csv" => new CsvAlertWriter(),
        _ => new NdjsonAlertWriter(DateTimeOffset.UtcNow),
    };

    /// <summary>The output format as a pipeline sink (NDJSON and CSV stream; the table keeps the most severe and writes them at the end).</summary>
    public static IAlertSink Sink(string? format, TextWriter stdout, bool wide = false) =>
        format == "table" ? new MostSevereSink(For(format, stdout, wide), stdout) : new WriterSink(For(format, stdout, wide), stdout, 256);
}
