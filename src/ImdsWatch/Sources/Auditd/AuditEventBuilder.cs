using System.Runtime.CompilerServices;
using ImdsWatch.Events;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Audit records in, normalized events out: the parser, the assembler that joins an event's records, and the
/// normalizer, wired once for every source that carries audit records (audit logs, syslog-relayed audit).
/// </summary>
public sealed class AuditEventBuilder
{
    private readonly SourceContext _context;
    private readonly AuditRecordArena _arena = new();

    public AuditEventBuilder(SourceContext context)
        : this(context, null)
    {
    }

    /// <summary>
    /// For the files of a set read in one scan: each record names its file (its source id), and
    /// <paramref name="contextOf"/> gives that file's context, where its events are counted and its issues reported.
    /// </summary>
    internal AuditEventBuilder(SourceContext context, Func<int, SourceContext>? contextOf)
    {
        _context = context;
        var normalizer = contextOf is null
            ? new AuditEventNormalizer(_ => context.Name, context.DefaultHost, a => context.Issue(a.Line, a.Reason))
            : new AuditEventNormalizer(id => contextOf(id).Name, context.DefaultHost, a => contextOf(a.SourceId).Issue(a.Line, a.Reason));
        Action<HostEvent> emit = context.Emit;
        Assembler = new AuditEventAssembler(e =>
        {
            (contextOf is null ? context : contextOf(e.Records[0].SourceId)).Stats.Events++;
            normalizer.Normalize(e, emit);
            // Normalized events hold strings, never the records: their bodies and objects are reused.
            foreach (var record in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(e.Records))
                _arena.Release(record);
            Assembler!.Recycle(e); // assigned before the first event
        });
    }

    public AuditRecordParser Parser { get; } = new();

    public AuditEventAssembler Assembler { get; }

    /// <summary>Where records parsed for <see cref="Assembler"/> keep their bodies: released as their event is normalized.</summary>
    internal AuditRecordArena Arena => _arena;

    /// <summary>Parses one record line and adds it to its event; an unreadable line is an issue (false).</summary>
    /// <remarks>
    /// The full parser's hot methods are compiled optimized at once (AggressiveOptimization): a scan runs them over
    /// one file, and under tiering the framework-dependent build spent its first second or more in unoptimized code
    /// and on-stack replacement (bench fullparser: first run 3.3 s CPU, later runs 1.4 s).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Add(ReadOnlySpan<byte> line, long lineNumber)
    {
        if (!Parser.TryParse(line, _context.SourceId, lineNumber, _arena, out var record, out var error))
        {
            _context.Issue(lineNumber, error!);
            return false;
        }
        _context.Stats.SawTime(record!.EpochMilliseconds);
        Assembler.Add(record);
        return true;
    }

    /// <summary>Completes every open event: serials restart with the kernel, so no event spans two inputs.</summary>
    public void Flush()
    {
        Assembler.Flush();
        _context.Stats.LateRecords += Assembler.LateRecords;
    }
}
