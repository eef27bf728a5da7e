using System.Net;

namespace ImdsWatch.Export;

/// <summary>One catalog endpoint as exports spell it: its addresses by family and its host names.</summary>
internal sealed record ExportEndpoint(
    string Id,
    string Name,
    IReadOnlyList<string> Providers,
    IReadOnlyList<IPAddress> IPv4,
    IReadOnlyList<IPAddress> IPv6,
    IReadOnlyList<string> Hostnames,
    IReadOnlyList<string> UrlOnlyHostnames);
