using System.Text;
using ImdsWatch.Events;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Syslog;

/// <summary>
/// A syslog file (RFC 3164, RFC 5424, ISO stamps): kernel audit records relayed through it go to the audit
/// reader; netfilter and Sysmon lines become connects and execs; every other message is a <see cref="LogMessage"/>.
/// </summary>
public sealed class SyslogSource : LineSource
{
    private AuditEventBuilder? _audit;
    private int _year;

    protected override void Begin(InputSource input, SourceContext context)
    {
        _audit = new AuditEventBuilder(context);
        // RFC 3164 stamps have no year: the file's own year is the best guess.
        _year = input.Path is null ? DateTime.UtcNow.Year : File.GetLastWriteTimeUtc(input.Path).Year;
    }

    protected override void ReadLine(ReadOnlySpan<byte> line, long lineNumber, SourceContext context)
    {
        context.Stats.Records++;
        var s = SyslogParser.Parse(Encoding.UTF8.GetString(line), _year);
        if (s is null)
        {
            context.Issue(lineNumber, "not a syslog line (RFC 3164, RFC 5424 or ISO timestamp)");
            return;
        }
        if (s.Message.Contains("type=", StringComparison.Ordinal) && s.Message.Contains("audit(", StringComparison.Ordinal))
        {
            // A kernel audit record relayed through syslog (kernel: audit: …, audisp-syslog): the audit reader takes it.
            // rsyslog escapes the ENRICHED separator 0x1D as "#035".
            var message = s.Message.Replace("#035", "\u001d", StringComparison.Ordinal);
            var relayed = message.Contains("node=", StringComparison.Ordinal) ? message : $"node={s.Host} {message[message.IndexOf("type=", StringComparison.Ordinal)..]}";
            _audit!.Add(Encoding.UTF8.GetBytes(relayed), lineNumber);
            return;
        }
        var evidence = new EvidenceRef(context.Name, lineNumber, $"syslog:{lineNumber}");
        if (SyslogEventReader.Netfilter(s, evidence, context.Sequence.Next()) is { } packet)
            context.Emit(packet);
        else if (SyslogEventReader.Sysmon(s, evidence, context.Sequence.Next()) is { } sysmon)
            context.Emit(sysmon);
        else
            context.Emit(new LogMessage { Timestamp = s.Timestamp, Host = s.Host, Program = s.Program, Pid = s.Pid, Message = s.Message, Evidence = evidence });
    }

    protected override void Finish(SourceContext context) => _audit!.Flush();
}
