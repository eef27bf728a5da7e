using ImdsWatch.Sources.Input;
using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// One file of a prefiltered scan (<see cref="PrefilteredAuditScan"/>): the handle its bytes are read from (the
/// file itself, or a .gz unpacked to a temporary file), where its bad lines go, and what the scan counted of it.
/// </summary>
internal sealed class ScanFile(InputSource source, int sourceId, SafeFileHandle handle, Action<long, string> report)
{
    public InputSource Source => source;

    public int SourceId => sourceId;

    public SafeFileHandle Handle => handle;

    /// <summary>A bad line of this file (line, reason).</summary>
    public Action<long, string> Report => report;

    /// <summary>Where the file's bytes start among the scan's: the runs of every file share one range of offsets.</summary>
    internal long Base { get; set; }

    /// <summary>Pass two's reader of the runs it keeps (set when pass one starts on the file).</summary>
    internal KeptRunReader? Kept { get; set; }

    public long Lines { get; internal set; }
    public long Records { get; internal set; }
    public long RecordsParsed { get; internal set; }
    public long NewestMilliseconds { get; internal set; }
    public long BytesConsumedToLastNewline { get; internal set; }
    public long LineNumberAtLastNewline { get; internal set; }
    public long BytesRead { get; internal set; }

    /// <summary>Events pass two only counted, and of them the execs and outbound connects detection would have counted.</summary>
    public long SkippedEvents { get; internal set; }
    public long SkippedExecs { get; internal set; }
    public long SkippedConnects { get; internal set; }

    /// <summary>Records that came after their event was complete (as the full parser counts them).</summary>
    public long LateRecords { get; internal set; }

    /// <summary>Skipped runs that a full parse adds to an open event (<see cref="AuditEventAssembler.ObservedJoiningOpen"/>).</summary>
    public long ObservedJoiningOpen { get; internal set; }
}
