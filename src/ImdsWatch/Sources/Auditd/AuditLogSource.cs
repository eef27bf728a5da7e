using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Auditd;

/// <summary>An audit log (auditd's raw or enriched format) parsed record by record: the path of gzip and stdin.</summary>
public sealed class AuditLogSource : LineSource
{
    private AuditEventBuilder? _stream;

    /// <summary>A batch read of an input from this size on normalizes on a thread of its own (tests: 0, or <see cref="long.MaxValue"/>).</summary>
    internal long NormalizeAsideFrom { get; init; } = NormalizingThread.WorthFrom;

    protected override void Begin(InputSource input, SourceContext context) =>
        _stream = new AuditEventBuilder(context, IsBatchRead && NormalizingThread.IsWorthIt(input.Length - input.Offset, NormalizeAsideFrom));

    protected override void ReadLine(ReadOnlySpan<byte> line, long lineNumber, SourceContext context)
    {
        if (!_stream!.Add(line, lineNumber))
            return;
        context.Stats.Records++;
        context.Stats.RecordsParsed++;
    }

    protected override void Finish(SourceContext context) => _stream!.Flush();

    protected override void AfterRead(bool completed)
    {
        if (completed)
            _stream?.Complete();
        else
            _stream?.Abandon();
    }
}
