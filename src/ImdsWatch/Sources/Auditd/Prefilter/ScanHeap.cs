using System.Runtime;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// Heap set aside for a one-shot scan of a large input, for the process that runs nothing else: a no-GC region of
/// <see cref="Budget"/> bytes, committed in one piece and advised for transparent huge pages.
/// <para>
/// Why: pass two's parsed records and detection state come to ~35 MB on a 525 MB log with rare metadata events.
/// With the default budget that is 6–7 gen0 collections, each stopping every thread of pass one, and each compacting
/// into freshly committed 4 KB pages — on the 2-core VM we measure on a first-touch fault costs ~11 µs. Up-front,
/// the budget is one mapping the kernel backs with 2 MB pages: page faults fall from ~5 000 to ~2 000, collections
/// to none, and the scan's wall time by about a fifth.
/// </para>
/// <para>
/// Only where transparent huge pages can be had: on 4 KB pages the region alone was no faster (more fresh memory
/// touched, as many faults). A scan that allocates more than the budget ends the region: the GC collects as usual
/// from there on, so memory stays bounded whatever the input. Disposing ends the region if it is still on.
/// </para>
/// </summary>
public sealed class ScanHeap : IDisposable
{
    /// <summary>What the region may allocate before collections resume.</summary>
    public const long Budget = 48L << 20;

    /// <summary>
    /// What the region may allocate on the large-object heap (pass one's block buffers and run lists take ~4 MB); apart
    /// from <see cref="Budget"/>, since the GC would otherwise commit the whole budget twice, ~2.5 ms more at start.
    /// </summary>
    public const long LargeObjectBudget = 16L << 20;

    /// <summary>Below this much fast-read input a scan is over in a few tens of milliseconds: not worth the budget.</summary>
    public const long WorthFrom = 64L << 20;

    private readonly long _worthFrom;
    private long _fastBytes;
    private long _expectedFastBytes;
    private bool _tried; // once: an attempt collects first, whether granted or not
    private bool _started;

    /// <summary>A heap for the scan this process runs; it is set aside once the scan has said it will read enough the fast way.</summary>
    public ScanHeap()
        : this(WorthFrom)
    {
    }

    internal ScanHeap(long worthFrom) => _worthFrom = worthFrom;

    /// <summary>True while the no-GC region holds (the scan has allocated less than the budget).</summary>
    public bool IsActive => _started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    /// <summary>The span of the GC's reservation advised for huge pages (0 where that is not possible).</summary>
    public long AdvisedBytes { get; private set; }

    /// <summary>Pass one's block buffers (one a worker), kept from one file of the scan to the next.</summary>
    internal ArrayShelf<byte> BlockBuffers { get; } = new(capacity: 16);

    /// <summary>Pass two's batches, kept from one file of the scan to the next.</summary>
    internal ArrayShelf<PassTwoItem> PassTwoBatches { get; } = new(capacity: 12);

    /// <summary>The run selector's tables (outside the GC heap), kept from one file of the scan to the next.</summary>
    public TableShelf SelectorTables { get; } = new(capacity: 8);

    /// <summary>
    /// The scan is about to read <paramref name="inputs"/>: the plain audit logs among them are what it will read
    /// the fast way, so a set of rotated logs takes the region with its first file (<see cref="WillReadFast"/>), not
    /// once eight of auditd's 8 MB files have been read without it.
    /// </summary>
    public void Expect(IEnumerable<InputSource> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        long bytes = 0;
        foreach (var input in inputs)
        {
            if (input.Path is not null && EventSources.FormatOf(input) == LogFormat.Auditd && PrefilteredAuditLogSource.CanRead(input))
                bytes += Math.Max(0, (input.Length ?? 0) - input.Offset);
        }
        _expectedFastBytes = bytes;
    }

    /// <summary>
    /// The scan is about to read <paramref name="bytes"/> the fast way (pass one). The full parser (gzip, other
    /// formats, no prefilter) would use the budget up at once, so only these count. Once they, or the bytes
    /// announced by <see cref="Expect"/>, reach <see cref="WorthFrom"/> the region is taken, unless huge pages cannot
    /// be had or a region is on already.
    /// </summary>
    public void WillReadFast(long bytes)
    {
        _fastBytes += bytes;
        if (_tried || Math.Max(_fastBytes, _expectedFastBytes) < _worthFrom || !HugePageMemory.IsAvailable
            || GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            return;
        _tried = true;
        try
        {
            _started = GC.TryStartNoGCRegion(Budget + LargeObjectBudget, LargeObjectBudget);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
        {
            return; // another region started meanwhile, or a GC that cannot grant this much
        }
        if (_started)
            AdvisedBytes = AdviseHeap();
    }

    public void Dispose()
    {
        SelectorTables.Dispose();
        if (!IsActive)
            return;
        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            // A collection ended the region meanwhile: nothing to end.
        }
    }

    /// <summary>The GC's reservation, found from an object allocated in it, advised as a whole: later commits too.</summary>
    private static unsafe long AdviseHeap()
    {
        var probe = new byte[1];
        fixed (byte* address = probe)
            return HugePageMemory.AdviseAnonymousRunAround((nint)address);
    }
}
