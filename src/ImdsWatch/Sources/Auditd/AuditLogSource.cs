using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Auditd;

/// <summary>An audit log (auditd's raw or enriched format) parsed record by record: the path of gzip and stdin.</summary>
public sealed class AuditLogSource : LineSource
{
    private AuditEventBuilder? _stream;

    protected override void Begin(InputSource input, SourceContext context) => _stream = new AuditEventBuilder(context);

    protected override void ReadLine(ReadOnlySpan<byte> line, long lineNumber, SourceContext context)
    {
        if (!_stream!.Add(line, lineNumber))
            return;
        context.Stats.Records++;
        context.Stats.RecordsParsed++;
    }

    protected override void Finish(SourceContext context) => _stream!.Flush();
}
