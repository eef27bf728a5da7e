using System.Text;

namespace ImdsWatch.Sources.Auditd;

/// <summary>
/// The key=value fields of a record body. Raw fields come first; in the ENRICHED format the kernel's
/// fields are followed by a 0x1D separator and auditd's interpreted fields (upper-case keys: UID="root").
/// User-space records nest their fields in msg='...'; those are merged in.
/// </summary>
public sealed class AuditFields
{
    private const byte EnrichedSeparator = 0x1D;
    private readonly List<AuditField> _fields = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public IReadOnlyList<AuditField> All => _fields;

    public static AuditFields Parse(ReadOnlySpan<byte> body)
    {
        var fields = new AuditFields();
        fields.ParseInto(body, interpreted: false);
        return fields;
    }

    private void ParseInto(ReadOnlySpan<byte> s, bool interpreted)
    {
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == EnrichedSeparator)
            {
                interpreted = true;
                i++;
                continue;
            }
            if (c == (byte)' ')
            {
                i++;
                continue;
            }
            var keyStart = i;
            while (i < s.Length && s[i] is not (byte)'=' and not (byte)' ' and not EnrichedSeparator)
                i++;
            if (i >= s.Length || s[i] != (byte)'=')
                continue; // a bare word such as "family" in "SADDR=unknown family": not a field
            var key = Encoding.UTF8.GetString(s[keyStart..i]);
            i++;
            var (valueStart, valueEnd, next, quote) = ScanValue(s, i);
            i = next;
            var raw = s[valueStart..valueEnd];
            if (quote == (byte)'\'' && key == "msg")
            {
                ParseInto(raw, interpreted);
                continue;
            }
            Add(new AuditField(key, Encoding.UTF8.GetString(raw), quote == (byte)'"', interpreted));
        }
    }

    private static (int Start, int End, int Next, byte Quote) ScanValue(ReadOnlySpan<byte> s, int i)
    {
        if (i >= s.Length)
            return (i, i, i, 0);
        var open = s[i];
        var close = open switch { (byte)'"' => (byte)'"', (byte)'\'' => (byte)'\'', (byte)'{' => (byte)'}', _ => (byte)0 };
        if (close != 0)
        {
            var end = s[(i + 1)..].IndexOf(close);
            if (end < 0)
                return (i + 1, s.Length, s.Length, open);
            var stop = i + 1 + end;
            return open == (byte)'{' ? (i, stop + 1, stop + 1, open) : (i + 1, stop, stop + 1, open);
        }
        var j = i;
        while (j < s.Length && s[j] is not (byte)' ' and not EnrichedSeparator)
            j++;
        return (i, j, j, 0);
    }

    private void Add(AuditField field)
    {
        _index[field.Interpreted ? "\u001d" + field.Key : field.Key] = _fields.Count;
        _fields.Add(field);
    }

    public AuditField? Get(string key) => _index.TryGetValue(key, out var at) ? _fields[at] : null;

    /// <summary>An interpreted (ENRICHED) field, such as UID="root".</summary>
    public string? GetInterpreted(string key) =>
        _index.TryGetValue("\u001d" + key, out var at) ? _fields[at].Value : null;

    /// <summary>The plain value: quotes removed, "(null)" and "?" as null.</summary>
    public string? GetString(string key)
    {
        var f = Get(key);
        return f is null || f.Value is "(null)" or "?" ? null : f.Value;
    }

    /// <summary>A field the kernel prints quoted or hex-encoded (comm, exe, cwd, name, proctitle, aN, key).</summary>
    public string? GetUntrusted(string key) => Get(key)?.DecodeUntrusted();

    public long? GetInt64(string key) => long.TryParse(GetString(key), out var v) ? v : null;

    public ulong? GetHexUInt64(string key) =>
        ulong.TryParse(GetString(key), System.Globalization.NumberStyles.HexNumber, null, out var v) ? v : null;
}

public sealed record AuditField(string Key, string Value, bool Quoted, bool Interpreted)
{
    public string? DecodeUntrusted()
    {
        if (Quoted)
            return Value;
        if (Value is "(null)" or "?" or "")
            return null;
        var bytes = Encoding.UTF8.GetBytes(Value);
        return HexField.LooksLikeHex(bytes) ? HexField.DecodeToString(bytes) ?? Value : Value;
    }
}
