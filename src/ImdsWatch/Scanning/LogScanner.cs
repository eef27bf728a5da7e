using System.Diagnostics;
using System.Text;
using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Chain;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Detection.Web;
using ImdsWatch.Indicators;
using ImdsWatch.Scanning.Prefilter;
using ImdsWatch.Sources.CloudTrail;
using ImdsWatch.Sources.Ecs;
using ImdsWatch.Sources.Syslog;
using ImdsWatch.Sources.Web;
using ImdsWatch.Events;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Scanning;

/// <summary>
/// The scan pipeline. Each file goes to the reader of its format (audit, syslog, ECS, web access, CloudTrail);
/// host-side events meet in one detector, requests in the SSRF rule, API calls in the CloudTrail rules, and the
/// chain correlator joins them. Bad lines become <see cref="ParseIssue"/>s and never stop the scan.
/// </summary>
public sealed class LogScanner(DetectionRules rules, string? defaultHost = null, CloudTrailOptions? cloud = null)
{
    public const int MaxIssueDetails = 1000;

    /// <summary>Called now and then with (bytes read so far, current source).</summary>
    public Action<long, InputSource>? Progress { get; init; }

    /// <summary>
    /// After a scan, per source: bytes read up to the last complete line, the last line number, and the time of
    /// the newest record — what the scheduled runner checkpoints.
    /// </summary>
    public Dictionary<int, (long Bytes, long LastLine, long NewestRecordMilliseconds)> Consumed { get; } = [];

    /// <summary>Read plain audit logs in two passes, fully parsing only what can matter (<see cref="PrefilteredAuditScan"/>).</summary>
    public bool UsePrefilter { get; init; } = true;

    /// <summary>Threads for pass one of a prefiltered scan (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Told of every file read the fast way, so that it can set the heap aside for them (a one-shot scan).</summary>
    public ScanHeap? Heap { get; init; }

    /// <summary>Block size of pass one (tests make it tiny, so that records and lines straddle blocks).</summary>
    internal int PrefilterBlockSize { get; init; } = ParallelBlockPass.DefaultBlockSize;

    public ScanResult Scan(IReadOnlyList<InputSource> sources, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        var detector = new MetadataAccessDetector(rules);
        var syslogMentions = new SyslogMentionRule(rules);
        var issues = new List<ParseIssue>();
        long issueCount = 0, lines = 0, records = 0, events = 0, bytes = 0;
        var names = sources.Select(s => s.Name).ToList();
        var sessions = new List<SessionEvent>();
        var requests = new List<HttpRequest>();
        var trails = new List<(int, InputSource)>();
        var formats = new Dictionary<LogFormat, int>();
        ulong syntheticSequence = 1UL << 48; // events from sources without serials still need an order

        void Report(ParseIssueArgs a)
        {
            issueCount++;
            if (issues.Count < MaxIssueDetails)
                issues.Add(new ParseIssue(names[a.SourceId], a.Line, a.Reason));
        }

        void ReportAll(int sourceId, List<ParseIssue> found)
        {
            foreach (var i in found)
                Report(new ParseIssueArgs(sourceId, i.Line, i.Reason));
            found.Clear();
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
        var found = new List<ParseIssue>();
        long parsed = 0;

        for (var sourceId = 0; sourceId < sources.Count; sourceId++)
        {
            var source = sources[sourceId];
            var format = FormatDetector.Detect(source) is var f && f != LogFormat.Unknown ? f : LogFormat.Auditd;
            formats[format] = formats.GetValueOrDefault(format) + 1;
            if (format == LogFormat.CloudTrail)
            {
                trails.Add((sourceId, source)); // read after the loop, all at once on all cores
                continue;
            }

            if (UsePrefilter && format == LogFormat.Auditd && PrefilteredAuditScan.CanRead(source))
            {
                Heap?.WillReadFast(Math.Max(0, (source.Length ?? 0) - source.Offset));
                var before = bytes;
                var fast = new PrefilteredAuditScan(rules.Candidates, parser, assembler)
                {
                    Workers = Workers,
                    BlockSize = PrefilterBlockSize,
                    Progress = Progress is null ? null : read => Progress(before + read, source),
                };
                var id = sourceId;
                fast.Scan(source, sourceId, (line, reason) => Report(new ParseIssueArgs(id, line, reason)), cancellation);
                assembler.Flush();
                Consumed[sourceId] = (fast.BytesConsumedToLastNewline, fast.LineNumberAtLastNewline, fast.NewestMilliseconds);
                lines += fast.Lines;
                records += fast.Records;
                parsed += fast.RecordsParsed;
                bytes += fast.BytesRead;
                Progress?.Invoke(bytes, source);
                continue;
            }

            var year = source.Path is null ? DateTime.UtcNow.Year : File.GetLastWriteTimeUtc(source.Path).Year;
            using var reader = new LineReader(source.Open(), firstLineNumber: source.FirstLineNumber);
            long lastRecordMilliseconds = 0;
            long lastReport = 0;
            while (reader.TryReadLine(out var line))
            {
                lines++;
                if (line.IsEmpty || line.IndexOfAnyExcept((byte)' ', (byte)'\t') < 0)
                    continue;
                switch (format)
                {
                    case LogFormat.Auditd:
                        if (parser.TryParse(line, sourceId, reader.LineNumber, out var record, out var error))
                        {
                            records++;
                            if (record!.EpochMilliseconds > lastRecordMilliseconds)
                                lastRecordMilliseconds = record.EpochMilliseconds;
                            assembler.Add(record);
                        }
                        else
                        {
                            Report(new ParseIssueArgs(sourceId, reader.LineNumber, error!));
                        }
                        break;
                    case LogFormat.Syslog:
                        records++;
                        ReadSyslogLine(Encoding.UTF8.GetString(line), sourceId, reader.LineNumber, year);
                        break;
                    case LogFormat.Ecs:
                        records++;
                        if (EcsEventReader.Parse(Encoding.UTF8.GetString(line), names[sourceId], reader.LineNumber, found) is { } ecs)
                            detector.Observe(ecs);
                        ReportAll(sourceId, found);
                        break;
                    case LogFormat.WebAccess:
                        records++;
                        if (WebAccessLogReader.Parse(Encoding.UTF8.GetString(line), names[sourceId], reader.LineNumber, found) is { } request)
                            requests.Add(request);
                        ReportAll(sourceId, found);
                        break;
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
                Report(new ParseIssueArgs(sourceId, skipped, LineReader.LongLineIssue));
            bytes += reader.BytesRead;
            Progress?.Invoke(bytes, source);
        }

        var cloudRules = new CloudTrailRules(cloud ?? new CloudTrailOptions());
        var cloudAlerts = new List<Alert>();
        var trail = new CloudTrailSource { Workers = Workers }.Read(trails, call => cloudAlerts.AddRange(cloudRules.Observe(call)),
            (id, line, reason) => Report(new ParseIssueArgs(id, line, reason)), (read, source) => Progress?.Invoke(bytes + read, source), cancellation);
        (records, bytes) = (records + trail.Records, bytes + trail.Bytes);
        cloudAlerts.AddRange(cloudRules.Complete());

        var detected = detector.CompleteAll();
        var alerts = new List<Alert>(detected.Alerts);
        alerts.AddRange(syslogMentions.Complete());
        alerts.AddRange(new SsrfRule(rules.Finder).Evaluate(requests));
        alerts.AddRange(cloudAlerts);
        alerts.AddRange(CredentialTheftChain.Correlate(alerts));
        if (syslogMentions.AllowedByAgent > 0)
            detector.Stats.AllowedByAgent["syslog lines of agents"] = syslogMentions.AllowedByAgent;

        return new ScanResult
        {
            Alerts = [.. alerts.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal)],
            Accesses = detected.Accesses,
            Sessions = sessions,
            Detection = detector.Stats,
            Issues = issues,
            IssueCount = issueCount,
            Files = names,
            Formats = formats,
            ApiCalls = (int)trail.Events,
            CloudTrail = trail with { Evicted = cloudRules.Evicted, EvidenceNotKept = cloudRules.EvidenceNotKept },
            HttpRequests = requests.Count,
            Lines = lines,
            Records = records,
            Events = events,
            Bytes = bytes,
            LateRecords = assembler.LateRecords,
            Elapsed = clock.Elapsed,
            RecordsParsed = parsed,
        };

        void ReadSyslogLine(string text, int sourceId, long lineNumber, int year)
        {
            var s = SyslogParser.Parse(text, year);
            if (s is null)
            {
                Report(new ParseIssueArgs(sourceId, lineNumber, "not a syslog line (RFC 3164, RFC 5424 or ISO timestamp)"));
                return;
            }
            if (s.Message.Contains("type=", StringComparison.Ordinal) && s.Message.Contains("audit(", StringComparison.Ordinal))
            {
                // A kernel audit record relayed through syslog (kernel: audit: …, audisp-syslog): the audit reader takes it.
                // rsyslog escapes the ENRICHED separator 0x1D as "#035".
                var message = s.Message.Replace("#035", "\u001d", StringComparison.Ordinal);
                var relayed = message.Contains("node=", StringComparison.Ordinal) ? message : $"node={s.Host} {message[message.IndexOf("type=", StringComparison.Ordinal)..]}";
                if (parser.TryParse(Encoding.UTF8.GetBytes(relayed), sourceId, lineNumber, out var record, out var error))
                    assembler.Add(record!);
                else
                    Report(new ParseIssueArgs(sourceId, lineNumber, error!));
                return;
            }
            var evidence = new EvidenceRef(names[sourceId], lineNumber, $"syslog:{lineNumber}");
            if (SyslogEventReader.Netfilter(s, evidence, syntheticSequence++) is { } packet)
                detector.Observe(packet);
            else if (SyslogEventReader.Sysmon(s, evidence, syntheticSequence++) is { } sysmon)
                detector.Observe(sysmon);
            else
                syslogMentions.Observe(s, evidence);
        }
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
