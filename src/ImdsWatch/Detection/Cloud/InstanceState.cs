namespace ImdsWatch.Detection.Cloud;

/// <summary>
/// What an instance's own sessions look like: the addresses its agents call from (or configured), the VPC
/// endpoints they come through, and how their credentials were delivered. Each set is bounded.
/// </summary>
internal sealed class InstanceState
{
    private const int MaxAddresses = 32;

    public HashSet<string> Home { get; } = new(StringComparer.Ordinal);
    public HashSet<string> HomeEndpoints { get; } = new(StringComparer.Ordinal);
    public bool HomeWithoutEndpoint { get; set; }

    /// <summary>ec2RoleDelivery of the instance's own sessions (calls from its home addresses).</summary>
    public HashSet<string> OwnDeliveries { get; } = new(StringComparer.Ordinal);

    /// <summary>ec2RoleDelivery of any session of the instance, from anywhere.</summary>
    public HashSet<string> AnyDeliveries { get; } = new(StringComparer.Ordinal);

    public bool AddHome(string ip) => Home.Count < MaxAddresses && Home.Add(ip);

    public void AddHomeEndpoint(string? vpce)
    {
        if (vpce is null)
            HomeWithoutEndpoint = true;
        else if (HomeEndpoints.Count < 8)
            HomeEndpoints.Add(vpce);
    }
}
