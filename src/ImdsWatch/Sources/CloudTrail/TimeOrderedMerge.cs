using ImdsWatch.Events;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// Puts calls that arrive nearly in time order (files overlap by minutes) in order: each is held until a call
/// <c>horizon</c> newer has been seen, or until more than <c>maxPending</c> are held, then released oldest
/// first. Ties keep arrival order, so the output depends only on the input, never on timing.
/// </summary>
internal sealed class TimeOrderedMerge(Action<ApiCall> onCall, TimeSpan horizon, int maxPending)
{
    private readonly PriorityQueue<ApiCall, (long Ticks, long Sequence)> _pending = new();
    private long _sequence;
    private long _newest = long.MinValue;
    private long _lastReleased = long.MinValue;

    /// <summary>Calls released after a newer one had already gone out (later than the horizon, or past the bound).</summary>
    public long OutOfOrder { get; private set; }

    public void Add(ApiCall call)
    {
        var ticks = call.Timestamp.UtcTicks;
        _pending.Enqueue(call, (ticks, _sequence++));
        if (ticks > _newest)
            _newest = ticks;
        var releaseBefore = _newest - horizon.Ticks;
        while (_pending.TryPeek(out _, out var first) && (first.Ticks < releaseBefore || _pending.Count > maxPending))
            Release();
    }

    public void Drain()
    {
        while (_pending.Count > 0)
            Release();
    }

    private void Release()
    {
        var call = _pending.Dequeue();
        var ticks = call.Timestamp.UtcTicks;
        if (ticks < _lastReleased)
            OutOfOrder++;
        else
            _lastReleased = ticks;
        onCall(call);
    }
}
