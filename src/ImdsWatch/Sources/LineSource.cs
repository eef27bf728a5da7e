using System.Runtime.CompilerServices;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources;

/// <summary>
/// A source of one record per line (audit fully parsed, syslog, ECS, web access logs): reads the lines, skips blank
/// ones, counts, reports progress and over-long lines, and hands each line to <see cref="ReadLine"/>.
/// </summary>
public abstract class LineSource : IEventSource
{
    private const long ProgressEvery = 8 << 20;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Read(InputSource input, SourceContext context, CancellationToken cancellation)
    {
        using var reader = new LineReader(input.Open(), firstLineNumber: input.FirstLineNumber);
        var stats = context.Stats;
        long lastReport = 0;
        Begin(input, context);
        while (TryReadLine(reader, context, out var line))
        {
            stats.Lines++;
            if (!IsBlank(line))
            {
                try
                {
                    ReadLine(line, reader.LineNumber, context);
                }
                catch (Exception e) when (ScanFailedException.At(context.Name, reader.LineNumber, e) is { } failed)
                {
                    throw failed; // a bug in a stage, not bad input (readers report that): end the run naming the place
                }
            }
            if (reader.BytesRead - lastReport > ProgressEvery)
            {
                lastReport = reader.BytesRead;
                context.Progress?.Invoke(reader.BytesRead);
                cancellation.ThrowIfCancellationRequested();
            }
        }
        Finish(context);
        stats.BytesToLastNewline = reader.BytesConsumedToLastNewline;
        stats.LastLine = reader.LineNumberAtLastNewline;
        foreach (var skipped in reader.SkippedLongLines)
            context.Issue(skipped, LineReader.LongLineIssue);
        stats.Bytes = reader.BytesRead;
        context.Progress?.Invoke(reader.BytesRead);
    }

    /// <summary>
    /// The next line; the input's failure (damaged gzip, an I/O error) ends it as an input error naming the line
    /// reached, after what came before was read, and the other inputs are still read.
    /// </summary>
    private static bool TryReadLine(LineReader reader, SourceContext context, out ReadOnlySpan<byte> line)
    {
        try
        {
            return reader.TryReadLine(out line);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            line = default;
            context.Stats.Unreadable = $"unreadable after line {reader.LineNumber:N0}: {e.Message}";
            return false;
        }
    }

    /// <summary>The agent following a growing file: <see cref="Begin"/> once, then lines as they are written.</summary>
    internal void StartLive(InputSource input, SourceContext context) => Begin(input, context);

    internal void FeedLive(ReadOnlySpan<byte> line, long lineNumber, SourceContext context)
    {
        context.Stats.Lines++;
        if (!IsBlank(line))
            ReadLine(line, lineNumber, context);
    }

    /// <summary>Empty or only spaces and tabs; a line's first byte nearly always answers (the search is a call a line).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsBlank(ReadOnlySpan<byte> line) =>
        line.IsEmpty || (line[0] is (byte)' ' or (byte)'\t' && line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0);

    /// <summary>The input went quiet (or ends): what is pending is handed over; more lines may follow.</summary>
    internal void FlushLive(SourceContext context) => Finish(context);

    /// <summary>Before the first line of an input.</summary>
    protected virtual void Begin(InputSource input, SourceContext context)
    {
    }

    /// <summary>One line that is not blank.</summary>
    protected abstract void ReadLine(ReadOnlySpan<byte> line, long lineNumber, SourceContext context);

    /// <summary>After the last line: hand over what is still pending.</summary>
    protected virtual void Finish(SourceContext context)
    {
    }
}
