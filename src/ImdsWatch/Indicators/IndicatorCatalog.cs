using System.Net;

namespace ImdsWatch.Indicators;

/// <summary>The endpoints, paths and headers that identify metadata-service access, loaded from YAML.</summary>
public sealed class IndicatorCatalog
{
    private readonly Dictionary<IPAddress, MetadataEndpoint> _byAddress = [];
    private readonly Dictionary<string, (MetadataEndpoint Endpoint, bool UrlOnly)> _byHostname = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<PathIndicator> _paths = [];
    private readonly List<HeaderIndicator> _headers = [];

    public IReadOnlyList<MetadataEndpoint> Endpoints { get; private set; } = [];
    public IReadOnlyList<PathIndicator> Paths => _paths;
    public IReadOnlyList<HeaderIndicator> Headers => _headers;
    public IEnumerable<IPAddress> Addresses => _byAddress.Keys;
    public IEnumerable<string> Hostnames => _byHostname.Keys;

    /// <summary>Every address (folded, as matched) with its endpoint, for exports that spell the same catalog out.</summary>
    internal IEnumerable<KeyValuePair<IPAddress, MetadataEndpoint>> AddressEntries => _byAddress;

    /// <summary>Every host name with its endpoint and whether it counts only as a URL's host.</summary>
    internal IEnumerable<(string Hostname, MetadataEndpoint Endpoint, bool UrlOnly)> HostnameEntries =>
        _byHostname.Select(h => (h.Key, h.Value.Endpoint, h.Value.UrlOnly));

    private static readonly Lazy<IndicatorCatalog> BuiltIn = new(() => From(Config.BuiltInDocuments.Indicators()));

    public static IndicatorCatalog Default => BuiltIn.Value;

    public static IndicatorCatalog Load(string yaml, IndicatorCatalog? extend = null)
    {
        CatalogDocument doc;
        try
        {
            doc = Config.YamlDocuments.Deserializer().Deserialize<CatalogDocument>(yaml) ?? new CatalogDocument();
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidCastException)
        {
            throw new InvalidDataException($"indicator catalog: {e.InnerException?.Message ?? e.Message}", e);
        }
        return From(doc, extend);
    }

    /// <summary>The catalog a parsed document describes, after what <paramref name="extend"/> holds.</summary>
    internal static IndicatorCatalog From(CatalogDocument doc, IndicatorCatalog? extend = null)
    {
        var catalog = new IndicatorCatalog();
        if (extend is not null)
            catalog.AddFrom(extend);
        var endpoints = catalog.Endpoints.ToList();
        foreach (var e in doc.Endpoints)
        {
            if (string.IsNullOrWhiteSpace(e.Id))
                throw new InvalidDataException("indicator catalog: an endpoint has no id");
            var endpoint = new MetadataEndpoint(e.Id, e.Name ?? e.Id, e.Providers);
            endpoints.Add(endpoint);
            foreach (var a in e.Addresses)
            {
                if (!IPAddress.TryParse(a, out var ip))
                    throw new InvalidDataException($"indicator catalog: endpoint {e.Id}: '{a}' is not an IP address");
                catalog._byAddress[AddressSpelling.Fold(ip)] = endpoint;
            }
            foreach (var h in e.Hostnames)
                catalog._byHostname[h.TrimEnd('.')] = (endpoint, e.UrlOnly);
        }
        catalog.Endpoints = endpoints;
        foreach (var p in doc.Paths)
        {
            if (string.IsNullOrWhiteSpace(p.Prefix) || !p.Prefix.StartsWith('/'))
                throw new InvalidDataException($"indicator catalog: path '{p.Prefix}' must start with /");
            catalog._paths.Add(new PathIndicator(p.Prefix, AccessClassNames.Parse(p.Class), p.Provider ?? "unknown", p.Strong));
        }
        foreach (var h in doc.Headers)
            catalog._headers.Add(new HeaderIndicator(h.Name, h.Value, h.Provider ?? "unknown", h.Class is null ? null : AccessClassNames.Parse(h.Class)));
        return catalog;
    }

    private void AddFrom(IndicatorCatalog other)
    {
        foreach (var (k, v) in other._byAddress) _byAddress[k] = v;
        foreach (var (k, v) in other._byHostname) _byHostname[k] = v;
        _paths.AddRange(other._paths);
        _headers.AddRange(other._headers);
        Endpoints = other.Endpoints;
    }

    public MetadataEndpoint? MatchAddress(IPAddress address) =>
        _byAddress.TryGetValue(AddressSpelling.Fold(address), out var e) ? e : null;

    public MetadataEndpoint? MatchHostname(ReadOnlySpan<char> host, bool asUrlHost)
    {
        var trimmed = host.TrimEnd('.');
        var lookup = _byHostname.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(trimmed, out var hit) && (asUrlHost || !hit.UrlOnly))
            return hit.Endpoint;
        return null;
    }

    /// <summary>The first path indicator whose prefix the (normalized) path starts with.</summary>
    public PathIndicator? ClassifyPath(string path)
    {
        foreach (var p in _paths)
        {
            if (PrefixMatches(p.Prefix, path))
                return p;
        }
        return null;
    }

    private static bool PrefixMatches(string pattern, string path)
    {
        int i = 0, j = 0;
        while (i < pattern.Length)
        {
            if (pattern[i] == '*')
            {
                while (j < path.Length && path[j] != '/')
                    j++;
                i++;
                continue;
            }
            if (j >= path.Length || char.ToLowerInvariant(pattern[i]) != char.ToLowerInvariant(path[j]))
                return false;
            i++;
            j++;
        }
        // A prefix ends at a segment boundary: "/latest" matches "/latest/x" and "/latest", not "/latestx".
        return j == path.Length || path[j] is '/' or '?' or '#' || pattern[^1] == '/';
    }

    public sealed class CatalogDocument
    {
        public List<EndpointDoc> Endpoints { get; set; } = [];
        public List<PathDoc> Paths { get; set; } = [];
        public List<HeaderDoc> Headers { get; set; } = [];
    }

    public sealed class EndpointDoc
    {
        public string Id { get; set; } = "";
        public string? Name { get; set; }
        public List<string> Providers { get; set; } = [];
        public List<string> Addresses { get; set; } = [];
        public List<string> Hostnames { get; set; } = [];
        public bool UrlOnly { get; set; }
    }

    public sealed class PathDoc
    {
        public string Prefix { get; set; } = "";
        public string? Class { get; set; }
        public string? Provider { get; set; }
        public bool Strong { get; set; }
    }

    public sealed class HeaderDoc
    {
        public string Name { get; set; } = "";
        public string? Value { get; set; }
        public string? Provider { get; set; }
        public string? Class { get; set; }
    }
}
