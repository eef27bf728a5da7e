using System.Net;

namespace ImdsWatch.Detection.Cloud;

public sealed record CloudTrailOptions
{
    /// <summary>AWS's address ranges: with them, instance credentials used from outside AWS are exfiltration.</summary>
    public AwsIpRanges? AwsRanges { get; init; }

    /// <summary>The organisation's own networks: calls from them are not off-instance use.</summary>
    public IReadOnlyList<IPNetwork> TrustedNetworks { get; init; } = [];

    /// <summary>Known addresses per instance id, besides those learned from its own calls.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IPAddress>> InstanceAddresses { get; init; } = new Dictionary<string, IReadOnlyList<IPAddress>>();
}
