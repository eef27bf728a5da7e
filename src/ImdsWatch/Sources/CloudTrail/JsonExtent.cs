using System.Buffers;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// Where a JSON object or array ends: brackets matched and strings (with their escapes) stepped over, by
/// vectorized searches for the few bytes that matter. Three to five times faster than letting
/// <see cref="System.Text.Json.Utf8JsonReader"/> skip the value token by token, which matters because most
/// records of an organisation trail are only skipped. Checks structure only; the records that are then read
/// are read (and validated) by Utf8JsonReader.
/// </summary>
internal static class JsonExtent
{
    public enum Result
    {
        Complete,
        Incomplete,
        Invalid,
    }

    private const int MaxDepth = 64;

    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[]"u8);
    private static readonly SearchValues<byte> StructuralAndLines = SearchValues.Create("\"{}[]\n"u8);
    private static readonly SearchValues<byte> StringEnd = SearchValues.Create("\"\\"u8);

    /// <summary>
    /// The length of the object or array that starts at <paramref name="span"/>[0]. With
    /// <paramref name="lineStartsValue"/> (values one after another, as NDJSON), a line that starts with a brace
    /// outside any string is taken as the next value: a broken line costs that line, not the rest of the file.
    /// </summary>
    public static Result Find(ReadOnlySpan<byte> span, bool lineStartsValue, out int length, out string error)
    {
        var structural = lineStartsValue ? StructuralAndLines : Structural;
        length = 0;
        error = "";
        ulong arrays = 0; // bit d set: the container at depth d is an array
        var depth = 0;
        var i = 0;
        while (true)
        {
            var next = span[i..].IndexOfAny(structural);
            if (next < 0)
                return Result.Incomplete;
            i += next;
            var c = span[i++];
            switch (c)
            {
                case (byte)'"':
                    while (true)
                    {
                        var end = span[i..].IndexOfAny(StringEnd);
                        if (end < 0)
                            return Result.Incomplete;
                        i += end;
                        if (span[i] == (byte)'"')
                        {
                            i++;
                            break;
                        }
                        i += 2; // a backslash and the byte it escapes
                        if (i > span.Length)
                            return Result.Incomplete;
                    }
                    break;
                case (byte)'\n':
                    if (i < span.Length && span[i] is (byte)'{' or (byte)'[')
                    {
                        error = "the next line starts a new value before this one is closed";
                        return Result.Invalid;
                    }
                    break;
                case (byte)'{' or (byte)'[':
                    if (depth == MaxDepth)
                    {
                        error = $"nested deeper than {MaxDepth} levels";
                        return Result.Invalid;
                    }
                    arrays = c == (byte)'[' ? arrays | (1UL << depth) : arrays & ~(1UL << depth);
                    depth++;
                    break;
                default: // '}' or ']'
                    if (depth == 0 || ((arrays >> (depth - 1)) & 1) != (c == (byte)']' ? 1UL : 0UL))
                    {
                        error = $"'{(char)c}' does not close what is open";
                        return Result.Invalid;
                    }
                    depth--;
                    if (depth == 0)
                    {
                        length = i;
                        return Result.Complete;
                    }
                    break;
            }
        }
    }
}
