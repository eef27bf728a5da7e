using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Ecs;
using ImdsWatch.Sources.Input;
using ImdsWatch.Sources.Syslog;
using ImdsWatch.Sources.Web;

namespace ImdsWatch.Sources;

/// <summary>The source for each format: the one place a new format is registered.</summary>
public sealed class EventSources(ReferenceCandidates candidates)
{
    /// <summary>Read plain audit logs in two passes, fully parsing only what can matter.</summary>
    public bool Prefilter { get; init; } = true;

    /// <summary>Threads for pass one of a prefiltered read (0: one per core).</summary>
    public int Workers { get; init; }

    public ScanHeap? Heap { get; init; }

    /// <summary>Block size of pass one (tests make it tiny).</summary>
    public int PrefilterBlockSize { get; init; } = Sources.Auditd.Prefilter.ParallelBlockPass.DefaultBlockSize;

    /// <summary>The free bytes of a directory, where a .gz is unpacked for the prefilter (tests; null: the file system's).</summary>
    internal Func<string, long>? FreeSpace { get; init; }

    /// <summary>The format of an input, told from its first lines; what is none of the others is read as audit.</summary>
    public static LogFormat FormatOf(InputSource input) =>
        FormatDetector.Detect(input) is var f && f != LogFormat.Unknown ? f : LogFormat.Auditd;

    /// <summary>Whether <see cref="For"/> gives the two-pass source for this input.</summary>
    public bool ReadsFast(LogFormat format, InputSource input) =>
        format == LogFormat.Auditd && Prefilter && PrefilteredAuditLogSource.CanRead(input);

    public IEventSource For(LogFormat format, InputSource input) => format switch
    {
        LogFormat.Auditd when ReadsFast(format, input) =>
            new PrefilteredAuditLogSource(candidates) { Workers = Workers, Heap = Heap, BlockSize = PrefilterBlockSize, FreeSpace = FreeSpace },
        LogFormat.Auditd => new AuditLogSource(),
        LogFormat.Syslog => new SyslogSource(),
        LogFormat.Ecs => new TextLineSource(EcsEventReader.Parse),
        LogFormat.WebAccess => new TextLineSource(WebAccessLogReader.Parse),
        _ => new AuditLogSource(),
    };
}
