using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ImdsWatch.Indicators;

/// <summary>
/// Finds references to metadata endpoints in free text: URLs, bare hosts, host:port, [IPv6], socat-style
/// TCP:host:port, bash /dev/tcp/host/port, Host: headers — in any address spelling, after undoing percent
/// and Unicode compatibility encodings. Paths after a host are normalized (dot segments, doubled slashes)
/// and classified by the catalog.
/// </summary>
public sealed class EndpointReferenceFinder
{
    private readonly IndicatorCatalog _catalog;

    /// <summary>The literal part of every strong path, searched for in one pass (OrdinalIgnoreCase).</summary>
    private readonly SearchValues<string> _strongPaths;

    public EndpointReferenceFinder(IndicatorCatalog catalog)
    {
        _catalog = catalog;
        var literals = catalog.Paths.Where(p => p.Strong).Select(p => p.Prefix.Split('*')[0]).Where(l => l.Length > 0).Distinct().ToArray();
        _strongPaths = SearchValues.Create(literals.Length > 0 ? literals : ["\u0000never"], StringComparison.OrdinalIgnoreCase);
    }

    private static readonly SearchValues<char> HostChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]");

    private static readonly SearchValues<char> PathStop = SearchValues.Create(" \t\r\n\"'`<>|;(){}\\^,");

    public IReadOnlyList<EndpointReference> Find(string text)
    {
        var results = new List<EndpointReference>();
        if (string.IsNullOrEmpty(text))
            return results;
        var decoded = Decode(text);
        var encoded = !ReferenceEquals(decoded, text) && decoded != text;
        ScanHosts(decoded, encoded, results);
        if (results.Count == 0)
            ScanStrongPaths(decoded, results);
        return results;
    }

    /// <summary>Undoes Unicode compatibility forms (full-width digits) and up to two rounds of percent-encoding.</summary>
    internal static string Decode(string text)
    {
        var s = text;
        if (!Ascii.IsValid(s))
            s = FoldCompatibilityForms(s);
        for (var round = 0; round < 2 && s.Contains('%', StringComparison.Ordinal); round++)
        {
            var next = Uri.UnescapeDataString(s);
            if (next == s)
                break;
            s = next;
        }
        return s;
    }

    /// <summary>
    /// Full-width ASCII (U+FF01..U+FF5E) and the ideographic full stops fold to ASCII, as URL parsers do
    /// (UTS #46); done by hand because string.Normalize is not available with invariant globalization.
    /// </summary>
    private static string FoldCompatibilityForms(string s)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            if (c is >= '\uFF01' and <= '\uFF5E')
                chars[i] = (char)(c - 0xFEE0);
            else if (c is '\u3002' or '\uFF61')
                chars[i] = '.';
        }
        return new string(chars);
    }

    private void ScanHosts(string s, bool encoded, List<EndpointReference> results)
    {
        var i = 0;
        while (i < s.Length)
        {
            var start = s.AsSpan(i).IndexOfAny(HostChars);
            if (start < 0)
                break;
            start += i;
            var length = s.AsSpan(start).IndexOfAnyExcept(HostChars);
            var end = length < 0 ? s.Length : start + length;
            EvaluateRun(s, start, end, encoded, results);
            i = end + 1;
        }
    }

    private void EvaluateRun(string s, int start, int end, bool encoded, List<EndpointReference> results)
    {
        var raw = s.AsSpan(start, end - start);
        start += raw.Length - raw.TrimStart('.').Length;
        var run = s.AsSpan(start, end - start).TrimEnd(':');
        if (run.Length == 0)
            return;
        var context = Context(s, start);

        // [IPv6] or [IPv6]:port
        if (run[0] == '[')
        {
            var close = run.IndexOf(']');
            if (close > 1 && IPAddress.TryParse(run[1..close], out var v6))
            {
                var port = close + 2 < run.Length && run[close + 1] == ':' ? ParsePort(run[(close + 2)..]) : null;
                AddAddress(s, v6, run[..(close + 1)].ToString(), port, start + run.Length, context, encoded, results);
            }
            return;
        }

        var colons = run.Count(':');
        if (colons >= 2)
        {
            if (IPAddress.TryParse(run, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6)
            {
                AddAddress(s, v6, run.ToString(), null, start + run.Length, context, encoded, results);
                return;
            }
            // socat TCP:host:port, ssh -L port:host:port and the like: try each piece.
            var offset = 0;
            foreach (var range in run.Split(':'))
            {
                var piece = run[range];
                EvaluateHost(s, piece, null, start + offset + piece.Length, context, encoded, results, allowPath: false);
                offset += piece.Length + 1;
            }
            return;
        }

        var hostPart = run;
        int? hostPort = null;
        if (colons == 1)
        {
            var c = run.IndexOf(':');
            hostPart = run[..c];
            hostPort = ParsePort(run[(c + 1)..]);
            if (hostPart.Length == 0)
                return;
        }
        EvaluateHost(s, hostPart, hostPort, start + run.Length, context, encoded, results, allowPath: true);
    }

    private void EvaluateHost(string s, ReadOnlySpan<char> host, int? port, int after, RunContext context, bool encoded,
        List<EndpointReference> results, bool allowPath)
    {
        if (host.Length == 0)
            return;
        if (AddressSpelling.TryParseIPv4(host, out var v4))
        {
            var ip = AddressSpelling.FromUInt32(v4);
            if (_catalog.MatchAddress(ip) is { } endpoint)
            {
                var how = AddressSpelling.IsCanonicalIPv4(host, v4) ? ObfuscationKind.None : ObfuscationKind.NumericSpelling;
                Add(s, endpoint, host.ToString(), port, allowPath ? after : -1, context, encoded, how, results);
            }
            return;
        }
        if (_catalog.MatchHostname(host, context.IsUrlHost) is { } named)
        {
            Add(s, named, host.ToString(), port, allowPath ? after : -1, context, encoded, ObfuscationKind.None, results);
            return;
        }
        if (AliasedAddress(host) is { } alias && _catalog.MatchAddress(alias) is { } aliased)
            Add(s, aliased, host.ToString(), port, allowPath ? after : -1, context, encoded, ObfuscationKind.DnsAlias, results);
    }

    private void AddAddress(string s, IPAddress v6, string hostText, int? port, int after, RunContext context, bool encoded,
        List<EndpointReference> results)
    {
        if (_catalog.MatchAddress(v6) is not { } endpoint)
            return;
        var folded = AddressSpelling.Fold(v6);
        var how = folded.AddressFamily == AddressFamily.InterNetwork ? ObfuscationKind.IPv6Embedding : ObfuscationKind.None;
        Add(s, endpoint, hostText, port, after, context, encoded, how, results);
    }

    private void Add(string s, MetadataEndpoint endpoint, string hostText, int? port, int after, RunContext context,
        bool encoded, ObfuscationKind how, List<EndpointReference> results)
    {
        string? path = null;
        if (after >= 0 && after < s.Length && s[after] == '/')
        {
            var stop = s.AsSpan(after).IndexOfAny(PathStop);
            path = NormalizePath(stop < 0 ? s[after..] : s.Substring(after, stop));
            if (context.IsDevTcp)
                path = null; // /dev/tcp/host/PORT: what follows is a port, not a path
        }
        if (context.IsDevTcp && after >= 0 && after < s.Length && s[after] == '/')
            port = ParsePort(s.AsSpan(after + 1).TrimEnd(" \"'`;)&|".AsSpan()));

        var indicator = path is null ? null : _catalog.ClassifyPath(path);
        var isUrl = context.IsUrlHost && !context.IsDevTcp;
        var cls = indicator?.Class ?? (isUrl ? AccessClass.Metadata : AccessClass.Connect);
        var provider = endpoint.SoleProvider ?? indicator?.Provider;
        if (encoded)
            how |= ObfuscationKind.Encoding;
        if (context.HasUserInfo)
            how |= ObfuscationKind.UserInfo;
        results.Add(new EndpointReference(endpoint, hostText, port, path, cls, provider, isUrl, how));
    }

    private void ScanStrongPaths(string s, List<EndpointReference> results)
    {
        if (s.AsSpan().IndexOfAny(_strongPaths) < 0)
            return;
        foreach (var p in _catalog.Paths)
        {
            if (!p.Strong)
                continue;
            var literal = p.Prefix.Split('*')[0];
            var at = s.IndexOf(literal, StringComparison.OrdinalIgnoreCase);
            if (at < 0)
                continue;
            var stop = s.AsSpan(at).IndexOfAny(PathStop);
            var path = NormalizePath(stop < 0 ? s[at..] : s.Substring(at, stop));
            var indicator = _catalog.ClassifyPath(path) ?? p;
            results.Add(new EndpointReference(null, "", null, path, indicator.Class, indicator.Provider, IsUrl: s.Contains("://", StringComparison.Ordinal), ObfuscationKind.None));
            return;
        }
    }

    /// <summary>Collapses doubled slashes and resolves "." and ".." segments as an HTTP server would.</summary>
    internal static string NormalizePath(string path)
    {
        var query = path.AsSpan().IndexOfAny('?', '#');
        var pathOnly = query < 0 ? path : path[..query];
        var segments = new List<string>();
        foreach (var seg in pathOnly.Split('/'))
        {
            if (seg.Length == 0 || seg == ".")
                continue;
            if (seg == "..")
            {
                if (segments.Count > 0)
                    segments.RemoveAt(segments.Count - 1);
                continue;
            }
            segments.Add(seg);
        }
        var trailing = pathOnly.EndsWith('/') && segments.Count > 0 ? "/" : "";
        return "/" + string.Join('/', segments) + trailing + (query < 0 ? "" : path[query..]);
    }

    /// <summary>nip.io-style names: 169.254.169.254.nip.io, 169-254-169-254.sslip.io, a9fea9fe.nip.io.</summary>
    private static IPAddress? AliasedAddress(ReadOnlySpan<char> host)
    {
        // An alias embeds the address in labels: a dot, and four decimal numbers or eight hex digits.
        if (host.IndexOf('.') < 0 || host.Length < 9 || (CountDigits(host, hex: false) < 4 && CountDigits(host, hex: true) < 8))
            return null;
        var labels = host.ToString().Split('.');
        for (var i = 0; i + 4 <= labels.Length; i++)
        {
            var candidate = string.Join('.', labels, i, 4);
            if (labels.Length > 4 && AddressSpelling.TryParseIPv4(candidate, out var a))
                return AddressSpelling.FromUInt32(a);
        }
        foreach (var label in labels)
        {
            var dashed = label.Split('-');
            if (dashed.Length >= 4)
            {
                for (var i = 0; i + 4 <= dashed.Length; i++)
                {
                    if (AddressSpelling.TryParseIPv4(string.Join('.', dashed, i, 4), out var a))
                        return AddressSpelling.FromUInt32(a);
                }
            }
            if (label.Length == 8 && uint.TryParse(label, System.Globalization.NumberStyles.HexNumber, null, out var hex) && labels.Length > 1)
                return AddressSpelling.FromUInt32(hex);
        }
        return null;
    }

    private static int CountDigits(ReadOnlySpan<char> s, bool hex)
    {
        var n = 0;
        foreach (var c in s)
        {
            if (hex ? char.IsAsciiHexDigit(c) : char.IsAsciiDigit(c))
                n++;
        }
        return n;
    }

    private static int? ParsePort(ReadOnlySpan<char> s)
    {
        var digits = 0;
        while (digits < s.Length && char.IsAsciiDigit(s[digits]))
            digits++;
        return digits > 0 && int.TryParse(s[..digits], out var p) && p <= 65535 ? p : null;
    }

    private readonly record struct RunContext(bool IsUrlHost, bool IsDevTcp, bool HasUserInfo);

    private static RunContext Context(string s, int start)
    {
        var before = s.AsSpan(0, start);
        var devTcp = before.EndsWith("/dev/tcp/", StringComparison.Ordinal) || before.EndsWith("/dev/udp/", StringComparison.Ordinal)
            || before.EndsWith("/inet/tcp/0/", StringComparison.Ordinal) || before.EndsWith("/inet4/tcp/0/", StringComparison.Ordinal)
            || before.EndsWith("/inet6/tcp/0/", StringComparison.Ordinal);
        if (devTcp)
            return new RunContext(true, true, false);
        if (before.EndsWith("://", StringComparison.Ordinal))
            return new RunContext(true, false, false);
        if (before.EndsWith("@", StringComparison.Ordinal))
        {
            var scheme = before.LastIndexOf("://", StringComparison.Ordinal);
            var userInfo = scheme >= 0 && before[(scheme + 3)..].IndexOfAny(" \t/\"'") < 0;
            return new RunContext(userInfo, false, userInfo);
        }
        var trimmed = before.TrimEnd(' ');
        if (trimmed.EndsWith("host:", StringComparison.OrdinalIgnoreCase))
            return new RunContext(true, false, false);
        return new RunContext(false, false, false);
    }
}
