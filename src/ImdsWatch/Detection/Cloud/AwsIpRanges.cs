using System.Net;
using System.Text.Json;

namespace ImdsWatch.Detection.Cloud;

/// <summary>AWS's published address ranges (the ip-ranges.json format): is an address inside AWS?</summary>
public sealed class AwsIpRanges(IReadOnlyList<IPNetwork> networks)
{
    public int Count => networks.Count;

    public bool Contains(IPAddress address) => networks.Any(n => n.Contains(address));

    public static AwsIpRanges Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var list = new List<IPNetwork>();
        foreach (var (array, field) in new[] { ("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix") })
        {
            if (!doc.RootElement.TryGetProperty(array, out var prefixes))
                continue;
            foreach (var p in prefixes.EnumerateArray())
            {
                if (p.TryGetProperty(field, out var cidr) && IPNetwork.TryParse(cidr.GetString(), out var network))
                    list.Add(network);
            }
        }
        if (list.Count == 0)
            throw new InvalidDataException($"{path}: no prefixes found (expected AWS ip-ranges.json: {{\"prefixes\":[{{\"ip_prefix\":…}}]}})");
        return new AwsIpRanges(list);
    }
}
