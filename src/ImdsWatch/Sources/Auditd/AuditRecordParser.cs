using System.Buffers.Text;
using System.Text;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// Decodes the header of one audit line: <c>[node=N ]type=T msg=audit(SEC.MS:SERIAL): body</c>, also when the
/// line was relayed through syslog (<c>... audit: type=1300 audit(...): ...</c>). Allocates only the body copy.
/// </summary>
public sealed class AuditRecordParser
{
    private readonly Dictionary<int, string> _typeNames = [];
    private readonly Dictionary<int, string> _nodes = [];

    public bool TryParse(ReadOnlySpan<byte> line, int sourceId, long lineNumber, out AuditRecord? record, out string? error)
    {
        record = null;
        var typeAt = line.IndexOf("type="u8);
        if (typeAt < 0)
        {
            error = "no type= field";
            return false;
        }

        string? node = null;
        var nodeAt = line[..typeAt].LastIndexOf("node="u8);
        if (nodeAt >= 0)
        {
            var nodeValue = line[(nodeAt + 5)..typeAt].TrimEnd((byte)' ');
            node = Intern(_nodes, nodeValue);
        }

        var rest = line[(typeAt + 5)..];
        var typeEnd = rest.IndexOf((byte)' ');
        if (typeEnd <= 0)
        {
            error = "type= has no value";
            return false;
        }
        var typeName = Intern(_typeNames, rest[..typeEnd]);
        rest = rest[typeEnd..].TrimStart((byte)' ');
        if (rest.StartsWith("msg="u8))
            rest = rest[4..];
        if (!rest.StartsWith("audit("u8))
        {
            error = "no audit(...) stamp after type=";
            return false;
        }
        rest = rest[6..];
        if (!TryParseStamp(ref rest, out var millis, out var serial))
        {
            error = "malformed audit(seconds.millis:serial) stamp";
            return false;
        }
        if (rest.Length > 0 && rest[0] == (byte)':')
            rest = rest[1..];
        rest = rest.TrimStart((byte)' ').TrimEnd("\r\n "u8);

        record = new AuditRecord
        {
            Node = node,
            Type = AuditRecordType.Parse(typeName),
            TypeName = typeName,
            EpochMilliseconds = millis,
            Serial = serial,
            Body = rest.ToArray(),
            SourceId = sourceId,
            Line = lineNumber,
        };
        error = null;
        return true;
    }

    private static bool TryParseStamp(ref ReadOnlySpan<byte> s, out long millis, out ulong serial)
    {
        millis = 0;
        serial = 0;
        if (!Utf8Parser.TryParse(s, out long seconds, out var used) || used >= s.Length || s[used] != (byte)'.')
            return false;
        s = s[(used + 1)..];
        if (!Utf8Parser.TryParse(s, out uint fraction, out used) || used == 0 || used >= s.Length || s[used] != (byte)':')
            return false;
        // The fraction is milliseconds as three digits; be lenient with other widths.
        var ms = used switch { 1 => fraction * 100, 2 => fraction * 10, 3 => fraction, _ => (uint)(fraction / Math.Pow(10, used - 3)) };
        s = s[(used + 1)..];
        if (!Utf8Parser.TryParse(s, out serial, out used) || used >= s.Length || s[used] != (byte)')')
            return false;
        s = s[(used + 1)..];
        millis = checked(seconds * 1000 + ms);
        return true;
    }

    private static string Intern(Dictionary<int, string> table, ReadOnlySpan<byte> value)
    {
        var hash = 17;
        foreach (var b in value)
            hash = (hash * 31) + b;
        if (table.TryGetValue(hash, out var s) && Encoding.UTF8.GetByteCount(s) == value.Length && Matches(s, value))
            return s;
        s = Encoding.UTF8.GetString(value);
        if (table.Count < 4096)
            table[hash] = s;
        return s;
    }

    private static bool Matches(string s, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (s[i] != value[i])
                return false;
        }
        return true;
    }
}
