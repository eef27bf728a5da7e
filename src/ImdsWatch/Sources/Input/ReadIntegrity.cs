using Microsoft.Win32.SafeHandles;

namespace ImdsWatch.Sources.Input;

/// <summary>
/// Notices a file that changed under a scan: cut short (truncated in place, <c>copytruncate</c>, a user's
/// <c>&gt; file</c>) or rewritten from the start while it was read. Taken when the file is opened (its length and
/// first bytes, on the same handle the reader uses), checked when the reader reaches the end. Reading on from a
/// stale offset would otherwise end early with partial results and no word, or read the middle of new lines.
/// </summary>
internal sealed class ReadIntegrity
{
    /// <summary>How many first bytes are compared (Filebeat and Vector fingerprint the head of a file likewise).</summary>
    private const int HeadBytes = 1024;

    private readonly SafeFileHandle _file;
    private readonly byte[] _head;

    private ReadIntegrity(SafeFileHandle file, long length, byte[] head)
    {
        _file = file;
        LengthAtStart = length;
        _head = head;
    }

    public long LengthAtStart { get; }

    /// <summary>The length and first bytes of <paramref name="file"/> now.</summary>
    public static ReadIntegrity Take(SafeFileHandle file)
    {
        var length = RandomAccess.GetLength(file);
        var head = new byte[(int)Math.Min(HeadBytes, length)];
        head = head[..PositionalRead.Fill(file, head, 0)];
        return new ReadIntegrity(file, length, head);
    }

    /// <summary>
    /// Why what was read from the file is not all it held when the read began (null when it is):
    /// <paramref name="readTo"/> is the offset a sequential reader reached (a cut behind it lost nothing); null for a
    /// reader that may still have gone back (the two-pass scan re-reads what pass one kept), where any cut counts.
    /// </summary>
    public string? Check(long? readTo)
    {
        var now = RandomAccess.GetLength(_file);
        if (now < LengthAtStart && (readTo ?? 0) < LengthAtStart)
            return $"the file was cut short while it was read ({LengthAtStart:N0} bytes when the scan began, {now:N0} at its end): what was cut was not scanned";
        Span<byte> head = stackalloc byte[HeadBytes];
        var n = PositionalRead.Fill(_file, head[.._head.Length], 0);
        if (n < _head.Length || !head[..n].SequenceEqual(_head))
            return "the file was rewritten from its start while it was read (truncated and written again, e.g. copytruncate): what was read after that may be mixed, scan it again";
        return null;
    }
}
