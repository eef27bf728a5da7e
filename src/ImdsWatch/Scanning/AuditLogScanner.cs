using System.Diagnostics;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Scanning;

/// <summary>
/// The scan pipeline: lines → records → events (by node and serial) → normalized exec/connect events →
/// detector → alerts. Bad lines become <see cref="ParseIssue"/>s and never stop the scan.
/// </summary>
public sealed class AuditLogScanner(DetectionRules rules, string? defaultHost = null)
{
    public const int MaxIssueDetails = 1000;

    /// <summary>Called now and then with (bytes read so far, current source).</summary>
    public Action<long, InputSource>? Progress { get; init; }

    /// <summary>
    /// After a scan, per source: bytes read up to the last complete line, the last line number, and the time of
    /// the newest record — what the scheduled runner checkpoints.
    /// </summary>
    public Dictionary<int, (long Bytes, long LastLine, long NewestRecordMilliseconds)> Consumed { get; } = [];

    public ScanResult Scan(IReadOnlyList<InputSource> sources, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var detector = new MetadataAccessDetector(rules);
        var issues = new List<ParseIssue>();
        long issueCount = 0, lines = 0, records = 0, events = 0, bytes = 0;
        var names = sources.Select(s => s.Name).ToList();
        var sessions = new List<SessionEvent>();

        void Report(ParseIssueArgs a)
        {
            issueCount++;
            if (issues.Count < MaxIssueDetails)
                issues.Add(new ParseIssue(names[a.SourceId], a.Line, a.Reason));
        }

        var normalizer = new AuditEventNormalizer(id => names[id], defaultHost, Report);
        var assembler = new AuditEventAssembler(e =>
        {
            events++;
            foreach (var hostEvent in normalizer.Normalize(e))
            {
                if (hostEvent is SessionEvent session)
                    sessions.Add(session);
                else
                    detector.Observe(hostEvent);
            }
        });
        var parser = new AuditRecordParser();

        for (var sourceId = 0; sourceId < sources.Count; sourceId++)
        {
            var source = sources[sourceId];
            using var reader = new LineReader(source.Open(), firstLineNumber: source.FirstLineNumber);
            long lastRecordMilliseconds = 0;
            long lastReport = 0;
            while (reader.TryReadLine(out var line))
            {
                lines++;
                if (line.IsEmpty || line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0)
                    continue;
                if (parser.TryParse(line, sourceId, reader.LineNumber, out var record, out var error))
                {
                    records++;
                    if (record!.EpochMilliseconds > lastRecordMilliseconds)
                        lastRecordMilliseconds = record.EpochMilliseconds;
                    assembler.Add(record!);
                }
                else
                {
                    Report(new ParseIssueArgs(sourceId, reader.LineNumber, error!));
                }
                if (reader.BytesRead - lastReport > (8 << 20))
                {
                    lastReport = reader.BytesRead;
                    Progress?.Invoke(bytes + reader.BytesRead, source);
                    cancellation.ThrowIfCancellationRequested();
                }
            }
            assembler.Flush(); // serials restart with the kernel: no event spans two files
            Consumed[sourceId] = (reader.BytesConsumedToLastNewline, reader.LineNumberAtLastNewline, lastRecordMilliseconds);
            foreach (var skipped in reader.SkippedLongLines)
                Report(new ParseIssueArgs(sourceId, skipped, $"line longer than {LineReader.MaxLineBytes} bytes skipped"));
            bytes += reader.BytesRead;
            Progress?.Invoke(bytes, source);
        }

        var detected = detector.CompleteAll();
        return new ScanResult
        {
            Alerts = detected.Alerts,
            Accesses = detected.Accesses,
            Sessions = sessions,
            Detection = detector.Stats,
            Issues = issues,
            IssueCount = issueCount,
            Files = names,
            Lines = lines,
            Records = records,
            Events = events,
            Bytes = bytes,
            LateRecords = assembler.LateRecords,
            Elapsed = clock.Elapsed,
        };
    }

    /// <summary>Normalized events of a log, for tests and tools that look below the alerts.</summary>
    public static List<HostEvent> ReadEvents(InputSource source, string? defaultHost = null, List<ParseIssue>? issues = null)
    {
        var result = new List<HostEvent>();
        var normalizer = new AuditEventNormalizer(_ => source.Name, defaultHost, a => issues?.Add(new ParseIssue(source.Name, a.Line, a.Reason)));
        var assembler = new AuditEventAssembler(e => result.AddRange(normalizer.Normalize(e).Where(x => x is not SessionEvent)));
        var parser = new AuditRecordParser();
        using var reader = new LineReader(source.Open());
        while (reader.TryReadLine(out var line))
        {
            if (line.IsEmpty)
                continue;
            if (parser.TryParse(line, 0, reader.LineNumber, out var record, out var error))
                assembler.Add(record!);
            else
                issues?.Add(new ParseIssue(source.Name, reader.LineNumber, error!));
        }
        assembler.Flush();
        return result;
    }
}
