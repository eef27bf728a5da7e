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

    /// <summary>What ends the user-info of a URL when looking back from its '@'.</summary>
    private static readonly SearchValues<char> UserInfoStop = SearchValues.Create(" \t/\"'");

    /// <summary>
    /// A path is read up to this many characters after its host (servers refuse longer request lines: nginx 8 KB).
    /// Text that repeats a host (169.254.169.254/169.254.169.254/…) would otherwise read the rest of the text once
    /// per host: quadratic time, and gigabytes of paths for one 128 KB argument.
    /// </summary>
    internal const int MaxPathChars = 4096;

    /// <summary>
    /// Path characters one text may have read in full windows; past them a path is read up to
    /// <see cref="MinPathChars"/>, so that the work of a text stays linear in its length however many hosts it names
    /// (with a full window each, 8192 hosts in a 128 KB argument cost 250 ms; now 20).
    /// </summary>
    private const int PathBudget = 16 * MaxPathChars;

    /// <summary>The window of a path once the text has used its budget: still past every catalog prefix.</summary>
    private const int MinPathChars = 256;

    /// <summary>
    /// References kept as found; past this, only a reference that differs in what detection weighs (endpoint,
    /// class, port, path, spelling) is added, so that a text naming a host thousands of times stays small.
    /// </summary>
    internal const int MaxPlainReferences = 16;

    public IReadOnlyList<EndpointReference> Find(string text)
    {
        var results = new FoundReferences();
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

    private void ScanHosts(string s, bool encoded, FoundReferences results)
    {
        var i = 0;
        var lastStop = -1; // the last user-info stop before the run, found once for the whole text, not per run
        var scanned = 0;
        while (i < s.Length)
        {
            var start = s.AsSpan(i).IndexOfAny(HostChars);
            if (start < 0)
                break;
            start += i;
            var length = s.AsSpan(start).IndexOfAnyExcept(HostChars);
            var end = length < 0 ? s.Length : start + length;
            var stop = s.AsSpan(scanned, start - scanned).LastIndexOfAny(UserInfoStop);
            if (stop >= 0)
                lastStop = scanned + stop;
            scanned = start;
            EvaluateRun(s, start, end, lastStop, encoded, results);
            i = end + 1;
        }
    }

    private void EvaluateRun(string s, int start, int end, int lastStop, bool encoded, FoundReferences results)
    {
        var raw = s.AsSpan(start, end - start);
        start += raw.Length - raw.TrimStart('.').Length;
        var run = s.AsSpan(start, end - start).TrimEnd(':');
        if (run.Length == 0)
            return;
        var context = Context(s, start, lastStop);

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
        FoundReferences results, bool allowPath)
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
        FoundReferences results)
    {
        if (_catalog.MatchAddress(v6) is not { } endpoint)
            return;
        var folded = AddressSpelling.Fold(v6);
        var how = folded.AddressFamily == AddressFamily.InterNetwork ? ObfuscationKind.IPv6Embedding : ObfuscationKind.None;
        Add(s, endpoint, hostText, port, after, context, encoded, how, results);
    }

    private void Add(string s, MetadataEndpoint endpoint, string hostText, int? port, int after, RunContext context,
        bool encoded, ObfuscationKind how, FoundReferences results)
    {
        string? path = null;
        if (after >= 0 && after < s.Length && s[after] == '/')
        {
            if (context.IsDevTcp)
            {
                port = ParsePort(s.AsSpan(after + 1)); // /dev/tcp/host/PORT: what follows is a port, not a path
            }
            else
            {
                var window = s.AsSpan(after, Math.Min(s.Length - after, Math.Max(MinPathChars, Math.Min(MaxPathChars, results.PathBudget))));
                var stop = window.IndexOfAny(PathStop);
                results.PathBudget -= stop < 0 ? window.Length : stop;
                path = NormalizePath(stop < 0 ? window : window[..stop]);
            }
        }

        var indicator = path is null ? null : _catalog.ClassifyPath(path);
        var isUrl = context.IsUrlHost && !context.IsDevTcp;
        var cls = indicator?.Class ?? (isUrl ? AccessClass.Metadata : AccessClass.Connect);
        var provider = endpoint.SoleProvider ?? indicator?.Provider;
        if (encoded)
            how |= ObfuscationKind.Encoding;
        if (context.HasUserInfo)
            how |= ObfuscationKind.UserInfo;
        if (results.Count >= MaxPlainReferences && results.Exists(r => r.Endpoint == endpoint && r.Class == cls && r.IsUrl == isUrl
                && r.Obfuscation == how && r.Provider == provider && r.Port.HasValue == port.HasValue && (r.Path is null) == (path is null)))
            return;
        results.Add(new EndpointReference(endpoint, hostText, port, path, cls, provider, isUrl, how));
    }

    private void ScanStrongPaths(string s, FoundReferences results)
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
            var path = NormalizePath(stop < 0 ? s.AsSpan(at) : s.AsSpan(at, stop));
            var indicator = _catalog.ClassifyPath(path) ?? p;
            results.Add(new EndpointReference(null, "", null, path, indicator.Class, indicator.Provider, IsUrl: s.Contains("://", StringComparison.Ordinal), ObfuscationKind.None));
            return;
        }
    }

    /// <summary>Collapses doubled slashes and resolves "." and ".." segments as an HTTP server would.</summary>
    internal static string NormalizePath(ReadOnlySpan<char> path)
    {
        var query = path.IndexOfAny('?', '#');
        var pathOnly = query < 0 ? path : path[..query];
        // One pass into one buffer, each kept segment written as "/seg"; ".." cuts back to the previous '/'.
        var rented = pathOnly.Length + 2 > 512 ? ArrayPool<char>.Shared.Rent(pathOnly.Length + 2) : null;
        var output = rented is null ? stackalloc char[512] : rented;
        var length = 0;
        foreach (var range in pathOnly.Split('/'))
        {
            var segment = pathOnly[range];
            if (segment.IsEmpty || segment is ".")
                continue;
            if (segment is "..")
            {
                length = Math.Max(0, output[..length].LastIndexOf('/'));
                continue;
            }
            output[length++] = '/';
            segment.CopyTo(output[length..]);
            length += segment.Length;
        }
        if (length == 0)
            output[length++] = '/';
        else if (pathOnly.EndsWith('/'))
            output[length++] = '/';
        var result = string.Concat(output[..length], query < 0 ? default : path[query..]);
        if (rented is not null)
            ArrayPool<char>.Shared.Return(rented);
        return result;
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

    /// <summary>The references of one text, and what is left of its path budget.</summary>
    private sealed class FoundReferences : List<EndpointReference>
    {
        public int PathBudget { get; set; } = EndpointReferenceFinder.PathBudget;
    }

    private readonly record struct RunContext(bool IsUrlHost, bool IsDevTcp, bool HasUserInfo);

    /// <param name="lastStop">The last of <see cref="UserInfoStop"/> before <paramref name="start"/> (-1: none).</param>
    private static RunContext Context(string s, int start, int lastStop)
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
            // User-info: the last "://" before the '@' with no stop after it, so the stop nearest the '@' is its '/'.
            var userInfo = lastStop >= 2 && s.AsSpan(lastStop - 2, 3).SequenceEqual("://");
            return new RunContext(userInfo, false, userInfo);
        }
        var trimmed = before.TrimEnd(' ');
        if (trimmed.EndsWith("host:", StringComparison.OrdinalIgnoreCase))
            return new RunContext(true, false, false);
        return new RunContext(false, false, false);
    }
}
