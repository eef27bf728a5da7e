using System.IO.Compression;

namespace ImdsWatch.Sources.Input;

/// <summary>One thing to read: a file (plain or gzip, found by its magic bytes) or standard input.</summary>
public sealed record InputSource(string Name, string? Path)
{
    /// <summary>Where to start reading (a checkpoint), and the line number of the line that starts there.</summary>
    public long Offset { get; init; }

    public long FirstLineNumber { get; init; } = 1;

    /// <summary>
    /// Standard input, spooled to a temporary file on first use: format detection and the scan both read it,
    /// and a pipe can be read only once.
    /// </summary>
    public static InputSource StandardInput => new("<stdin>", SpoolStandardInput());

    private static string? _spooled;
    private static readonly Lock SpoolLock = new();

    private static string SpoolStandardInput()
    {
        lock (SpoolLock)
        {
            if (_spooled is null)
            {
                var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"imdswatch-stdin-{Environment.ProcessId}-{Guid.NewGuid():N}");
                var options = new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    Share = FileShare.None,
                    BufferSize = 1 << 16,
                };
                if (!OperatingSystem.IsWindows())
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // logs hold secrets
                using (var file = new FileStream(path, options))
                {
                    // Removed on exit, also when a signal ends the command while the pipe is still being read.
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
                    using var stdin = Console.OpenStandardInput();
                    stdin.CopyTo(file);
                }
                _spooled = path;
            }
            return _spooled;
        }
    }

    /// <summary>
    /// The file's size; a symbolic link's is its target's (<see cref="FileInfo.Length"/> gives the link's own few
    /// bytes, which made a linked 500 MB log look too small for the scan's heap and the rules' thread).
    /// </summary>
    public long? Length
    {
        get
        {
            if (Path is null)
                return null;
            var file = new FileInfo(Path);
            return file.LinkTarget is null ? file.Length : file.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target ? target.Length : file.Length;
        }
    }

    public Stream Open()
    {
        // A file's end is checked: cut short or rewritten while it was read is the input's damage, not a quiet end.
        Stream raw = Path is null
            ? Console.OpenStandardInput()
            : new TruncationCheckedStream(new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan));
        var peekable = new PeekableStream(new BufferedStream(raw, 1 << 16));
        Span<byte> magic = stackalloc byte[2];
        var gzip = IsGzip(magic[..peekable.Peek(magic)]);
        if (Offset > 0 && !gzip)
        {
            raw.Seek(Offset, SeekOrigin.Begin);
            return new BufferedStream(raw, 1 << 16);
        }
        if (!gzip)
            return peekable;
        // A checkpoint in a log that was compressed since (logrotate's audit.log.1.gz) counts uncompressed bytes.
        var unzipped = new GzipEndCheck(peekable, Path);
        Skip(unzipped, Offset);
        return unzipped;
    }

    private static void Skip(Stream stream, long count)
    {
        var buffer = new byte[1 << 16];
        while (count > 0)
        {
            var n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (n == 0)
                return;
            count -= n;
        }
    }

    /// <summary>True when the file starts with gzip's magic bytes.</summary>
    public static bool IsGzipFile(string path)
    {
        using var f = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> head = stackalloc byte[2];
        return IsGzip(head[..RandomAccess.Read(f, head, 0)]);
    }

    /// <summary>gzip's magic bytes: a compressed log is told by its content, not its name.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b;
}
