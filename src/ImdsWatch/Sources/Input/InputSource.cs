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
                using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                using (var stdin = Console.OpenStandardInput())
                    stdin.CopyTo(file);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
                _spooled = path;
            }
            return _spooled;
        }
    }

    public long? Length => Path is null ? null : new FileInfo(Path).Length;

    public Stream Open()
    {
        Stream raw = Path is null
            ? Console.OpenStandardInput()
            : new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        if (Offset > 0)
        {
            raw.Seek(Offset, SeekOrigin.Begin);
            return new BufferedStream(raw, 1 << 16); // a checkpoint is inside a plain log, never a gzip
        }
        var peekable = new PeekableStream(new BufferedStream(raw, 1 << 16));
        Span<byte> magic = stackalloc byte[2];
        return IsGzip(magic[..peekable.Peek(magic)]) ? new GZipStream(peekable, CompressionMode.Decompress) : peekable;
    }

    /// <summary>gzip's magic bytes: a compressed log is told by its content, not its name.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b;
}
