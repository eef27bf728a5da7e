using System.Globalization;
using System.Text;

namespace ImdsWatch.Sinks.Spool;

/// <summary>
/// A sink's durable queue: alerts are appended to segment files (<c>NNNNNNNNNNNN.spool</c>, one <c>id TAB json</c>
/// line each, mode 0600 in a 0700 directory) before delivery, and the <c>ack</c> file records how far delivery got.
/// A restart resumes from the ack (at-least-once: what was sent but not yet acked is sent again). Bounded: when
/// an append would pass <see cref="MaxBytes"/>, the oldest segment is dropped and its alerts counted in
/// <see cref="Dropped"/>. A line cut short by a crash (no newline) is skipped. Delivery reads only the batch it
/// takes, from the acknowledged head (a backlog of any size costs nothing per batch); acknowledging advances the head
/// and deletes the segments it passed. Alerts the receiver refused for good are kept in <c>rejected.ndjson</c>
/// (bounded like a rotated log: one old file). Thread-safe.
/// </summary>
public sealed class DiskSpool : IDisposable
{
    private const string Suffix = ".spool";
    private const string AckFile = "ack";
    private const string RejectedFile = "rejected.ndjson";
    private const int ReadChunk = 64 * 1024;
    private const UnixFileMode SpoolFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirectoryMode = SpoolFileMode | UnixFileMode.UserExecute;

    private readonly Lock _lock = new();
    private readonly string _directory;
    private readonly SortedSet<long> _segments = [];
    private long _writeSegment;
    private FileStream? _writer;
    private long _ackSegment;
    private long _ackOffset;
    private long _bytes;

    public DiskSpool(string directory, long maxBytes, long segmentBytes = 1 << 20)
    {
        _directory = directory;
        MaxBytes = maxBytes;
        SegmentBytes = Math.Max(1, Math.Min(segmentBytes, maxBytes / 4));
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(directory);
        else
            Directory.CreateDirectory(directory, DirectoryMode);
        foreach (var file in Directory.EnumerateFiles(directory, "*" + Suffix))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                _segments.Add(n);
        }
        ReadAck();
        foreach (var s in _segments.Where(s => s < _ackSegment).ToList())
            DeleteSegment(s);
        Pending = CountPending();
        _bytes = _segments.Sum(SegmentLength);
        // Always write a fresh segment: the last one may end in a line a crash cut short.
        _writeSegment = (_segments.Count > 0 ? _segments.Max : _ackSegment) + 1;
    }

    public long MaxBytes { get; }
    public long SegmentBytes { get; }

    /// <summary>Alerts waiting for delivery.</summary>
    public long Pending { get; private set; }

    /// <summary>Alerts dropped because the spool was full (oldest first).</summary>
    public long Dropped { get; private set; }

    /// <summary>Bytes of the segments on disk.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
                return _bytes;
        }
    }

    /// <summary>Bytes of the alerts waiting for delivery (about: a line cut short by a crash counts too).</summary>
    public long PendingBytes
    {
        get
        {
            lock (_lock)
                return Math.Max(0, _bytes - _ackOffset);
        }
    }

    /// <summary>Bytes read from segments by <see cref="Peek"/> since the spool was opened (what delivery costs).</summary>
    internal long BytesRead { get; private set; }

    /// <summary>Alerts the receiver refused for good (kept in <c>rejected.ndjson</c>).</summary>
    public long Rejected { get; private set; }

    /// <summary>Told when alerts are dropped because the spool is full (count, total dropped so far).</summary>
    public Action<long, long>? OnDropped { get; init; }

    public void Append(string id, string json)
    {
        var line = Encoding.UTF8.GetBytes($"{id}\t{json}\n");
        lock (_lock)
        {
            if (_writer is null || _writer.Length + line.Length > SegmentBytes && _writer.Length > 0)
                Roll();
            while (_bytes + line.Length > MaxBytes && _segments.Min != _writeSegment)
                DropOldest();
            _writer!.Write(line);
            _writer.Flush(); // to the kernel: a kill -9 loses nothing written here
            _bytes += line.Length;
            Pending++;
        }
    }

    /// <summary>
    /// Up to <paramref name="max"/> alerts and about <paramref name="maxBytes"/> bytes (at least one alert) from the
    /// oldest not yet acknowledged, without removing them. Reads only those alerts' lines.
    /// </summary>
    public IReadOnlyList<SpoolEntry> Peek(int max, long maxBytes = long.MaxValue)
    {
        var entries = new List<SpoolEntry>();
        lock (_lock)
        {
            var budget = maxBytes;
            foreach (var segment in _segments.GetViewBetween(_ackSegment, long.MaxValue))
            {
                if (!ReadLines(segment, segment == _ackSegment ? _ackOffset : 0, max, ref budget, entries))
                    break;
            }
        }
        return entries;
    }

    /// <summary>The alerts up to and including <paramref name="last"/> were delivered.</summary>
    public void Acknowledge(IReadOnlyList<SpoolEntry> delivered)
    {
        if (delivered.Count == 0)
            return;
        var last = delivered[^1];
        lock (_lock)
        {
            if (last.Segment < _ackSegment || last.Segment == _ackSegment && last.End <= _ackOffset)
                return; // already acknowledged, or dropped meanwhile
            Pending = Math.Max(0, Pending - delivered.Count(e => e.Segment > _ackSegment || e.End > _ackOffset));
            (_ackSegment, _ackOffset) = (last.Segment, last.End);
            // only the segments up to the head: a deep backlog behind it costs nothing here
            foreach (var s in _segments.GetViewBetween(_segments.Min, _ackSegment).Where(s => s < _ackSegment || s != _writeSegment && _ackOffset >= SegmentLength(s)).ToList())
                DeleteSegment(s);
            WriteAck();
        }
    }

    /// <summary>
    /// Keeps alerts the receiver refused for good in <c>rejected.ndjson</c> (one JSON object a line: id, reason, the
    /// alert), 0600; past a quarter of <see cref="MaxBytes"/> the file is rotated to <c>rejected.ndjson.1</c>. They
    /// are acknowledged with their batch like the delivered ones.
    /// </summary>
    public void Reject(IReadOnlyList<(string Id, string Json, string Reason)> rejected)
    {
        if (rejected.Count == 0)
            return;
        var text = new StringBuilder();
        foreach (var (id, json, reason) in rejected)
            text.Append("{\"id\":").Append(Quote(id)).Append(",\"reason\":").Append(Quote(reason)).Append(",\"alert\":").Append(json).Append("}\n");
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        lock (_lock)
        {
            var path = Path.Combine(_directory, RejectedFile);
            var info = new FileInfo(path);
            if (info.Exists && info.Length + bytes.Length > MaxBytes / 4)
                File.Move(path, path + ".1", overwrite: true);
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = SpoolFileMode;
            using (var stream = new FileStream(path, options))
                stream.Write(bytes);
            Rejected += rejected.Count;
        }
    }

    private static string Quote(string text) => "\"" + System.Text.Json.JsonEncodedText.Encode(text, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\"";

    /// <summary>Closes the segment being written; what it holds stays on disk for the next start.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _writer?.Dispose();
            _writer = null;
        }
    }

    /// <summary>
    /// Reads whole lines of <paramref name="segment"/> from <paramref name="offset"/> in chunks, until
    /// <paramref name="max"/> entries or the byte budget; false when the batch is full (no later segment is read).
    /// </summary>
    private bool ReadLines(long segment, long offset, int max, ref long budget, List<SpoolEntry> into)
    {
        SafeFileHandleOwner? file;
        try
        {
            file = new SafeFileHandleOwner(File.OpenHandle(SegmentPath(segment), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        }
        catch (FileNotFoundException)
        {
            return true;
        }
        using (file)
        {
            var buffer = new byte[ReadChunk];
            var filled = 0;
            var position = offset; // of buffer[0] in the file
            while (true)
            {
                if (filled == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2); // a line longer than the buffer
                var n = RandomAccess.Read(file.Handle, buffer.AsSpan(filled), position + filled);
                BytesRead += n;
                if (n == 0)
                    return true; // the end of the segment (a last line without newline is being written, or was cut by a crash)
                filled += n;
                var start = 0;
                int newline;
                while ((newline = Array.IndexOf(buffer, (byte)'\n', start, filled - start)) >= 0)
                {
                    var length = newline - start;
                    if (into.Count > 0 && length + 1 > budget)
                        return false;
                    var text = Encoding.UTF8.GetString(buffer, start, length);
                    var tab = text.IndexOf('\t', StringComparison.Ordinal);
                    if (tab > 0)
                    {
                        into.Add(new SpoolEntry(text[..tab], text[(tab + 1)..], segment, position + newline + 1));
                        budget -= length + 1;
                    }
                    start = newline + 1;
                    if (into.Count >= max || budget <= 0)
                        return false;
                }
                // keep the incomplete tail at the front of the buffer
                Array.Copy(buffer, start, buffer, 0, filled - start);
                filled -= start;
                position += start;
            }
        }
    }

    /// <summary>Disposes the handle of a segment read.</summary>
    private sealed class SafeFileHandleOwner(Microsoft.Win32.SafeHandles.SafeFileHandle handle) : IDisposable
    {
        public Microsoft.Win32.SafeHandles.SafeFileHandle Handle => handle;

        public void Dispose() => handle.Dispose();
    }

    private void Roll()
    {
        _writer?.Dispose();
        if (_writer is not null)
            _writeSegment++;
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = SpoolFileMode;
        _writer = new FileStream(SegmentPath(_writeSegment), options);
        _segments.Add(_writeSegment);
    }

    private void DropOldest()
    {
        var oldest = _segments.Min;
        var lost = CountLines(oldest, oldest == _ackSegment ? _ackOffset : 0);
        DeleteSegment(oldest);
        if (_ackSegment <= oldest)
            (_ackSegment, _ackOffset) = (_segments.Min, 0);
        WriteAck();
        Pending = Math.Max(0, Pending - lost);
        Dropped += lost;
        OnDropped?.Invoke(lost, Dropped);
    }

    private long CountPending()
    {
        long count = 0;
        foreach (var s in _segments.Where(s => s >= _ackSegment))
            count += CountLines(s, s == _ackSegment ? _ackOffset : 0);
        return count;
    }

    private long CountLines(long segment, long offset)
    {
        try
        {
            var bytes = File.ReadAllBytes(SegmentPath(segment));
            return offset >= bytes.Length ? 0 : bytes.AsSpan((int)offset).Count((byte)'\n');
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    private void ReadAck()
    {
        var path = Path.Combine(_directory, AckFile);
        _ackSegment = _segments.Count > 0 ? _segments.Min : 1;
        if (!File.Exists(path))
            return;
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var s) && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var o))
            (_ackSegment, _ackOffset) = (s, o);
    }

    /// <summary>Written to a temporary file and renamed over the old one, so a crash leaves the old or the new.</summary>
    private void WriteAck()
    {
        var path = Path.Combine(_directory, AckFile);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = SpoolFileMode;
        using (var stream = new FileStream(temporary, options))
            stream.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{_ackSegment} {_ackOffset}\n")));
        File.Move(temporary, path, overwrite: true);
    }

    private void DeleteSegment(long segment)
    {
        _bytes = Math.Max(0, _bytes - SegmentLength(segment));
        if (segment == _writeSegment && _writer is not null)
        {
            _writer.Dispose();
            _writer = null;
        }
        File.Delete(SegmentPath(segment));
        _segments.Remove(segment);
    }

    private long SegmentLength(long segment)
    {
        if (segment == _writeSegment && _writer is not null)
            return _writer.Length;
        var info = new FileInfo(SegmentPath(segment));
        return info.Exists ? info.Length : 0;
    }

    private string SegmentPath(long segment) =>
        Path.Combine(_directory, segment.ToString("D12", CultureInfo.InvariantCulture) + Suffix);
}
