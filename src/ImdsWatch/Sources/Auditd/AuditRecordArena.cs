using System.Runtime.CompilerServices;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Where the full parser keeps records until their event is normalized: bodies are copied one after the other
/// into 256 KB chunks, and records and chunks are reused once released, so a scan allocates per record nothing
/// the collector must trace or clear. A chunk is reused when every record in it has been released. Records that
/// stay long (an event waiting for its last record) must not pin many chunks: once more than
/// <see cref="MaxPinnedChunks"/> full chunks still hold records, the oldest one's records are copied to arrays of
/// their own, so memory stays bounded by what the open events hold, as without the arena. A body too large for a
/// chunk gets an array of its own. One thread.
/// </summary>
internal sealed class AuditRecordArena
{
    internal const int ChunkBytes = 256 << 10;
    internal const int MaxPinnedChunks = 32;
    private const int OwnArrayFrom = ChunkBytes / 8;
    private const int MaxFreeRecords = 1 << 16;
    private const int MaxFreeChunks = 8;

    private readonly Stack<AuditRecord> _freeRecords = new();
    private readonly Stack<Chunk> _freeChunks = new();
    private readonly Queue<(Chunk Chunk, long Retired)> _pinned = new();
    private Chunk? _current;
    private long _retirements;
    private int _pinnedCount;

    /// <summary>Full chunks that still hold records (for tests).</summary>
    internal int PinnedChunks => _pinnedCount;

    /// <summary>A run of bodies; <see cref="Live"/> counts its records not yet released.</summary>
    internal sealed class Chunk
    {
        public byte[] Data { get; } = new byte[ChunkBytes];
        public List<AuditRecord> Records { get; } = [];
        public int Used { get; set; }
        public int Live { get; set; }

        /// <summary>When it was last retired (full, no longer written), 0 while it is written or free.</summary>
        public long Retired { get; set; }
    }

    /// <summary>A record (reused when one is free) holding a copy of <paramref name="body"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public AuditRecord Rent(ReadOnlySpan<byte> body)
    {
        var record = _freeRecords.Count > 0 ? _freeRecords.Pop() : new AuditRecord();
        if (body.Length >= OwnArrayFrom)
        {
            record.BodyBuffer = body.ToArray();
            record.BodyOffset = 0;
        }
        else
        {
            var chunk = _current;
            if (chunk is null || chunk.Used + body.Length > ChunkBytes)
                chunk = NextChunk();
            body.CopyTo(chunk.Data.AsSpan(chunk.Used));
            record.BodyBuffer = chunk.Data;
            record.BodyOffset = chunk.Used;
            record.Chunk = chunk;
            chunk.Records.Add(record);
            chunk.Used += body.Length;
            chunk.Live++;
        }
        record.BodyLength = body.Length;
        return record;
    }

    /// <summary>The record is not read again: its place in the chunk and the object itself may be reused.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Release(AuditRecord record)
    {
        if (record.Chunk is { } chunk)
        {
            record.Chunk = null;
            if (--chunk.Live == 0)
                Emptied(chunk);
        }
        record.BodyBuffer = [];
        record.BodyOffset = 0;
        record.BodyLength = 0;
        record.Node = null;
        if (_freeRecords.Count < MaxFreeRecords)
            _freeRecords.Push(record);
    }

    private void Emptied(Chunk chunk)
    {
        chunk.Used = 0;
        chunk.Records.Clear();
        if (ReferenceEquals(chunk, _current))
            return; // written on from its beginning
        if (chunk.Retired != 0)
        {
            chunk.Retired = 0;
            _pinnedCount--;
        }
        if (_freeChunks.Count < MaxFreeChunks)
            _freeChunks.Push(chunk);
    }

    private Chunk NextChunk()
    {
        if (_current is { } full)
        {
            full.Retired = ++_retirements;
            _pinned.Enqueue((full, full.Retired));
            _pinnedCount++;
            while (_pinnedCount > MaxPinnedChunks)
                Unpin();
            if (_pinned.Count > 4 * MaxPinnedChunks)
                DropEmptied();
        }
        var next = _freeChunks.Count > 0 ? _freeChunks.Pop() : new Chunk();
        _current = next;
        return next;
    }

    /// <summary>Forgets the chunks emptied since they were queued (a chunk held long must not grow the queue).</summary>
    private void DropEmptied()
    {
        for (var n = _pinned.Count; n > 0; n--)
        {
            var entry = _pinned.Dequeue();
            if (entry.Chunk.Retired == entry.Retired)
                _pinned.Enqueue(entry);
        }
    }

    /// <summary>Gives the records still in the oldest full chunk arrays of their own, and frees the chunk.</summary>
    private void Unpin()
    {
        var (chunk, retired) = _pinned.Dequeue();
        if (chunk.Retired != retired)
            return; // emptied since (and perhaps reused)
        foreach (var record in chunk.Records)
        {
            if (!ReferenceEquals(record.Chunk, chunk))
                continue; // released (and perhaps reused elsewhere)
            record.BodyBuffer = record.Body.ToArray();
            record.BodyOffset = 0;
            record.Chunk = null;
        }
        chunk.Live = 0;
        Emptied(chunk);
    }
}
