using System.Diagnostics;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Input;
using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Agent;

/// <summary>
/// Follows one log file as it grows (audit, syslog, web access): new complete lines go to the live pipeline through
/// the reader of the file's format. Survives rotation: by rename (the old file is read to its end, then the new one
/// from its start) and by copytruncate (what the copy holds past the last offset is read from the copy, then the
/// file from its start). A checkpoint (inode, fingerprint of the first bytes, offset) is saved once the alerts of the
/// lines before it are final, so a restart resumes there; with no checkpoint, following starts at the file's end.
/// Called from the agent's one thread; a <see cref="FileSystemWatcher"/> (inotify) only wakes that thread.
/// </summary>
public sealed class FileFollower : IDisposable
{
    private const int MaxLine = 1 << 20;
    private readonly string _checkpointFile;
    private readonly LogFormat? _format;
    private readonly Action<string> _log;
    private readonly Queue<(FileIdentity File, long Offset, long Line, long ReadAt)> _uncommitted = new();
    private readonly MemoryStream _partial = new();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private FileSystemWatcher? _watcher;
    private SafeFileHandle? _handle;
    private FileIdentity? _identity;
    private long _offset;
    private long _line;
    private LineSource? _reader;
    private SourceContext? _context;
    private LivePipeline? _pipeline;
    private bool _started;
    private Renamed? _renamed;

    /// <summary>A file renamed away, still open: read as it grows, closed once quiet for <see cref="RenamedGrace"/>.</summary>
    private sealed class Renamed(SafeFileHandle handle, FileIdentity identity, long offset, long line) : IDisposable
    {
        public SafeFileHandle Handle { get; } = handle;
        public FileIdentity Identity { get; } = identity;
        public long Offset = offset;
        public long Line = line;
        public MemoryStream Partial { get; } = new();
        public long LastGrowth { get; set; } = Stopwatch.GetTimestamp();
        public long LastLength { get; set; } = -1;

        public void Dispose()
        {
            Handle.Dispose();
            Partial.Dispose();
        }
    }

    /// <param name="spec">PATH, or FORMAT:PATH with FORMAT audit, syslog, web or ecs (otherwise told from the first lines).</param>
    public FileFollower(string spec, string checkpointDirectory, Action<string> log)
    {
        (_format, Path) = Parse(spec);
        _checkpointFile = FollowCheckpoint.PathFor(checkpointDirectory, Path);
        _log = log;
    }

    public string Path { get; }

    /// <summary>Lines handed to the pipeline, and files finished after a rotation.</summary>
    public long Lines { get; private set; }
    public long Rotations { get; private set; }

    /// <summary>How long a file renamed away is kept open while nothing is appended to it.</summary>
    public TimeSpan RenamedGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>True while a file renamed away is still open and read.</summary>
    public bool ReadingRenamed => _renamed is not null;

    /// <summary>Set when inotify reports a change (any thread).</summary>
    public Action? Wake { get; init; }

    public static (LogFormat? Format, string Path) Parse(string spec)
    {
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            LogFormat? format = spec[..colon].ToLowerInvariant() switch
            {
                "audit" or "auditd" => LogFormat.Auditd,
                "syslog" => LogFormat.Syslog,
                "web" or "nginx" or "apache" => LogFormat.WebAccess,
                "ecs" => LogFormat.Ecs,
                _ => null,
            };
            if (format is not null)
                return (format, spec[(colon + 1)..]);
        }
        return (null, spec);
    }

    /// <summary>Reads into <paramref name="pipeline"/> from now on (at start, and after a reload).</summary>
    public void Attach(LivePipeline pipeline)
    {
        _pipeline = pipeline;
        _reader = null;
        _context = null;
    }

    /// <summary>Opens the file where the checkpoint says (or at its end) and starts watching its folder.</summary>
    public void Start()
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        if (Directory.Exists(directory))
        {
            try
            {
                _watcher = new FileSystemWatcher(directory, System.IO.Path.GetFileName(Path))
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size,
                };
                _watcher.Changed += (_, _) => Wake?.Invoke();
                _watcher.Created += (_, _) => Wake?.Invoke();
                _watcher.Renamed += (_, _) => Wake?.Invoke();
                _watcher.Deleted += (_, _) => Wake?.Invoke();
                _watcher.Error += (_, e) => _log($"follow {Path}: inotify: {e.GetException().Message}; polling");
                _watcher.EnableRaisingEvents = true;
            }
            catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
            {
                _log($"follow {Path}: no inotify watch ({e.Message}); polling");
            }
        }
        _started = true;
        Resume();
    }

    private void Resume()
    {
        var checkpoint = FollowCheckpoint.Load(_checkpointFile);
        if (!TryOpen(Path, out var handle, out var identity))
        {
            if (checkpoint is not null)
            {
                DrainElsewhere(checkpoint.File, checkpoint.Offset, checkpoint.Line, null, "rotated while stopped");
                Rotations++;
            }
            return; // read from its start when it appears
        }
        if (checkpoint is null)
        {
            (_handle, _identity, _offset) = (handle, identity, RandomAccess.GetLength(handle!));
            _log($"follow {Path}: no checkpoint, following from the end ({_offset} bytes)");
            return;
        }
        var sameFile = identity!.Inode == checkpoint.File.Inode && checkpoint.File.SameStart(handle!);
        if (sameFile && RandomAccess.GetLength(handle!) >= checkpoint.Offset)
        {
            (_handle, _identity, _offset, _line) = (handle, checkpoint.File, checkpoint.Offset, checkpoint.Line);
            return;
        }
        // Rotated while the agent was down: the rest of the checkpointed file first, then this one from its start.
        DrainElsewhere(checkpoint.File, checkpoint.Offset, checkpoint.Line, identity.Inode, "rotated while stopped");
        Rotations++;
        (_handle, _identity, _offset, _line) = (handle, identity, 0, 0);
    }

    /// <summary>Reads what is new; returns the number of lines handed over.</summary>
    public long Poll()
    {
        if (!_started)
            return 0;
        var before = Lines;
        var progressed = ReadRenamed();
        if (_handle is null)
        {
            if (TryOpen(Path, out var handle, out var identity))
                (_handle, _identity, _offset, _line) = (handle, identity, 0, 0);
            else
                return Progress(before, progressed);
        }
        if (_offset > RandomAccess.GetLength(_handle!) || !_identity!.SameStart(_handle!))
        {
            // copytruncate: the copy holds what was written after our offset and before the truncation.
            DrainElsewhere(_identity!, _offset, _line, _identity!.Inode, "truncated (copytruncate)");
            _identity = FileIdentity.Of(_handle!);
            (_offset, _line) = (0, 0);
            _partial.SetLength(0);
            Rotations++;
        }
        ReadToEnd(_handle!, ref _offset, ref _line, _partial);
        if (_identity is { FingerprintLength: < FileIdentity.FingerprintBytes } && RandomAccess.GetLength(_handle!) > _identity.FingerprintLength)
            _identity = FileIdentity.Of(_handle!); // the fingerprint grows with the file up to its full length
        var current = FileStat.InodeOf(Path);
        if (current is { } inode && inode != _identity!.Inode && TryOpen(Path, out var next, out var nextIdentity))
        {
            // Renamed away and a new file in its place: the old one is read to its end and kept open for what its
            // writer still appends; the new one is read from its start.
            ReadToEnd(_handle!, ref _offset, ref _line, _partial);
            if (_renamed is not null)
                CloseRenamed("rotated again");
            _renamed = new Renamed(_handle!, _identity!, _offset, _line);
            _partial.WriteTo(_renamed.Partial);
            _partial.SetLength(0);
            (_handle, _identity, _offset, _line) = (next, nextIdentity, 0, 0);
            Rotations++;
            ReadToEnd(_handle!, ref _offset, ref _line, _partial);
            progressed = true;
        }
        return Progress(before, progressed);
    }

    /// <summary>
    /// Queues the position to checkpoint once final. While a renamed file is open, that is its position: a crash then
    /// resumes with the rest of it (found beside the path by inode) and the new file from its start.
    /// </summary>
    private long Progress(long before, bool progressed)
    {
        if (_renamed is { } r && (Lines > before || progressed))
            _uncommitted.Enqueue((r.Identity, r.Offset, r.Line, Stopwatch.GetTimestamp()));
        else if (_identity is not null && (Lines > before || progressed))
            _uncommitted.Enqueue((_identity, _offset, _line, Stopwatch.GetTimestamp()));
        return Lines - before;
    }

    /// <summary>Reads what was appended to the renamed file; closes it once it has been quiet for the grace. True when it closed.</summary>
    private bool ReadRenamed()
    {
        if (_renamed is not { } r)
            return false;
        ReadToEnd(r.Handle, ref r.Offset, ref r.Line, r.Partial);
        var length = RandomAccess.GetLength(r.Handle);
        if (length != r.LastLength)
            (r.LastLength, r.LastGrowth) = (length, Stopwatch.GetTimestamp());
        if (Stopwatch.GetElapsedTime(r.LastGrowth) < RenamedGrace)
            return false;
        CloseRenamed($"quiet for {RenamedGrace.TotalSeconds:0.#} s");
        return true;
    }

    private void CloseRenamed(string why)
    {
        var r = _renamed!;
        EndOfFile(r.Partial, ref r.Offset, ref r.Line);
        _log($"follow {Path}: the renamed file (inode {r.Identity.Inode}) is {why}; closed after {r.Line} lines");
        r.Dispose();
        _renamed = null;
    }

    /// <summary>The input is quiet: an event still open in the reader is complete.</summary>
    public void Flush()
    {
        if (_reader is not null && _context is not null)
            _reader.FlushLive(_context);
    }

    /// <summary>
    /// Saves the checkpoint of the last position read at least <paramref name="settled"/> ago: by then the live pipeline
    /// has made every alert of the lines before it final (the window, plus the quiet flush).
    /// </summary>
    public void Commit(TimeSpan settled)
    {
        (FileIdentity File, long Offset, long Line, long ReadAt)? last = null;
        while (_uncommitted.TryPeek(out var next) && Stopwatch.GetElapsedTime(next.ReadAt) >= settled)
            last = _uncommitted.Dequeue();
        if (last is { } c)
            Save(new FollowCheckpoint(c.File, c.Offset, c.Line));
    }

    /// <summary>At shutdown, once the pipeline completed: everything read is final.</summary>
    public void CommitAll()
    {
        _uncommitted.Clear();
        if (_identity is not null)
            Save(new FollowCheckpoint(_identity, _offset, _line));
    }

    private void Save(FollowCheckpoint checkpoint)
    {
        try
        {
            checkpoint.Save(_checkpointFile, Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log($"follow {Path}: checkpoint not saved: {e.Message}");
        }
    }

    private void ReadToEnd(SafeFileHandle handle, ref long offset, ref long line, MemoryStream partial)
    {
        var position = offset + partial.Length;
        int n;
        while ((n = RandomAccess.Read(handle, _buffer, position)) > 0)
        {
            position += n;
            var span = _buffer.AsSpan(0, n);
            while (span.Length > 0)
            {
                var newline = span.IndexOf((byte)'\n');
                if (newline < 0)
                {
                    partial.Write(span);
                    break;
                }
                line++;
                if (partial.Length == 0)
                {
                    Feed(span[..newline], line);
                }
                else
                {
                    partial.Write(span[..newline]);
                    if (partial.Length <= MaxLine)
                        Feed(partial.GetBuffer().AsSpan(0, (int)partial.Length), line);
                    else
                        _context?.Issue(line, LineReader.LongLineIssue);
                    partial.SetLength(0);
                }
                offset = position - span.Length + newline + 1;
                span = span[(newline + 1)..];
            }
            if (partial.Length > MaxLine)
            {
                // an endless line: skip ahead, keep reading from where it ends
                offset = position;
                partial.SetLength(0);
            }
        }
    }

    private void Feed(ReadOnlySpan<byte> text, long line)
    {
        if (_reader is null || _context is null)
        {
            var format = _format ?? EventSources.FormatOf(new InputSource(Path, Path));
            var input = new InputSource(Path, Path);
            _context = _pipeline!.CreateSource(Path);
            _reader = _pipeline.LineSourceFor(format, input);
            _reader.StartLive(input, _context);
        }
        Lines++;
        _reader.FeedLive(text, line, _context);
    }

    /// <summary>A file ends (rotated away): its last line, even without a newline, and any open event.</summary>
    private void EndOfFile(MemoryStream partial, ref long offset, ref long line)
    {
        if (partial.Length > 0)
        {
            Feed(partial.GetBuffer().AsSpan(0, (int)partial.Length), ++line);
            offset += partial.Length;
            partial.SetLength(0);
        }
        Flush();
    }

    /// <summary>
    /// The rest of a file that is no longer at the path: renamed (PATH.1 …, the same inode) or copied before a
    /// truncation (PATH.1 …, the same first bytes), read from <paramref name="offset"/> to its end. The file now at
    /// the path (inode <paramref name="live"/>) is never taken for it.
    /// </summary>
    private void DrainElsewhere(FileIdentity file, long offset, long line, ulong? live, string why)
    {
        _partial.SetLength(0);
        foreach (var candidate in Siblings())
        {
            if (!TryOpen(candidate, out var handle, out var identity))
                continue;
            using (handle)
            {
                if (identity!.Inode == live || RandomAccess.GetLength(handle!) < offset || !file.SameStart(handle!))
                    continue;
                ReadToEnd(handle!, ref offset, ref line, _partial);
                EndOfFile(_partial, ref offset, ref line);
                _log($"follow {Path}: {why}; read the rest of {candidate}");
                return;
            }
        }
        _log($"follow {Path}: {why}, and the rest of the old file was not found beside it (what followed offset {offset} is not read)");
    }

    /// <summary>Rotated names beside the file: PATH.1, PATH-20261130, … (newest first; compressed ones never match).</summary>
    private IEnumerable<string> Siblings()
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        var name = System.IO.Path.GetFileName(Path);
        if (!Directory.Exists(directory))
            return [];
        return Directory.EnumerateFiles(directory, name + "*")
            .Where(f => System.IO.Path.GetFileName(f) != name)
            .OrderByDescending(File.GetLastWriteTimeUtc);
    }

    private static bool TryOpen(string path, out SafeFileHandle? handle, out FileIdentity? identity)
    {
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            identity = FileIdentity.Of(handle);
            if (identity is not null)
                return true;
            handle.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // not there (yet), or not readable
        }
        (handle, identity) = (null, null);
        return false;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _handle?.Dispose();
        _renamed?.Dispose();
        _partial.Dispose();
    }
}
