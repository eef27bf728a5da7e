namespace ImdsWatch.Indicators;

/// <summary>
/// A place in some text that reaches a metadata endpoint: the host as written, the path after it, and
/// what that path serves. <see cref="Endpoint"/> is null for a path-only reference (a metadata path behind
/// a host we do not know, such as a proxy or a shell variable).
/// </summary>
public sealed record EndpointReference(
    MetadataEndpoint? Endpoint,
    string HostText,
    int? Port,
    string? Path,
    AccessClass Class,
    string? Provider,
    bool IsUrl,
    ObfuscationKind Obfuscation)
{
    public string? Url => IsUrl ? $"http://{HostForUrl}{(Port is { } p ? ":" + p : "")}{Path ?? "/"}" : null;

    private string HostForUrl => HostText.Contains(':', StringComparison.Ordinal) && !HostText.StartsWith('[') ? $"[{HostText}]" : HostText;
}

[Flags]
public enum ObfuscationKind
{
    None = 0,

    /// <summary>Decimal, hex, octal or short-form IPv4.</summary>
    NumericSpelling = 1,

    /// <summary>An IPv6 form that carries the IPv4 address (mapped, compatible, NAT64).</summary>
    IPv6Embedding = 2,

    /// <summary>Percent- or Unicode-encoded text that decodes to the endpoint.</summary>
    Encoding = 4,

    /// <summary>A DNS name that embeds the address (nip.io, sslip.io style rebinding names).</summary>
    DnsAlias = 8,

    /// <summary>Credentials in the URL before the host (http://decoy@169.254.169.254/).</summary>
    UserInfo = 16,
}
