using System.Runtime.CompilerServices;
using ImdsWatch.Events;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Audit records in, normalized events out: the parser, the assembler that joins an event's records, and the
/// normalizer, wired once for every source that carries audit records (audit logs, syslog-relayed audit).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification =
    "The normalizing thread is ended by Complete or Abandon, which the batch read calls in a finally (LineSource.Read); other builders hold nothing to dispose.")]
public sealed class AuditEventBuilder
{
    private readonly SourceContext _context;
    private readonly AuditRecordArena _arena = new();
    private readonly NormalizingThread? _aside;

    public AuditEventBuilder(SourceContext context)
        : this(context, normalizeAside: false)
    {
    }

    /// <param name="normalizeAside">Normalize on a thread of its own (<see cref="NormalizingThread"/>): a batch read of
    /// a large input, whose caller calls <see cref="Complete"/> at its end (or <see cref="Abandon"/>).</param>
    internal AuditEventBuilder(SourceContext context, bool normalizeAside)
    {
        _context = context;
        var normalizer = new AuditEventNormalizer(_ => context.Name, context.DefaultHost, a => context.Issue(a.Line, a.Reason));
        if (normalizeAside)
        {
            var aside = _aside = new NormalizingThread(normalizer, context, _arena, e => Assembler!.Recycle(e));
            Assembler = new AuditEventAssembler(e =>
            {
                context.Stats.Events++;
                aside.Add(e);
            });
            return;
        }
        Action<HostEvent> emit = context.Emit;
        Assembler = new AuditEventAssembler(e =>
        {
            context.Stats.Events++;
            normalizer.Normalize(e, emit);
            // Normalized events hold strings, never the records: their bodies and objects are reused.
            foreach (var record in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(e.Records))
                _arena.Release(record);
            Assembler!.Recycle(e); // assigned before the first event
        });
    }

    public AuditRecordParser Parser { get; } = new();

    public AuditEventAssembler Assembler { get; }

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
            if (_aside is not null)
                _aside.Issue(lineNumber, error!); // in its place among the events the thread emits
            else
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
        _aside?.Drain();
        _context.Stats.LateRecords += Assembler.LateRecords;
    }

    /// <summary>The end of a batch read: everything is normalized and emitted, and the normalizing thread ends.</summary>
    internal void Complete() => _aside?.Complete();

    /// <summary>A batch read that failed: the normalizing thread ends without normalizing what it still holds.</summary>
    internal void Abandon() => _aside?.Dispose();
}
