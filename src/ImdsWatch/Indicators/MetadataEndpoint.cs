namespace ImdsWatch.Indicators;

/// <summary>One metadata or credential service, as the catalog describes it.</summary>
public sealed record MetadataEndpoint(string Id, string Name, IReadOnlyList<string> Providers)
{
    /// <summary>The provider when the endpoint alone says it (one provider), else null.</summary>
    public string? SoleProvider => Providers.Count == 1 ? Providers[0] : null;
}
