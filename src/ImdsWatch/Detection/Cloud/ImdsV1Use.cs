using ImdsWatch.Events;

namespace ImdsWatch.Detection.Cloud;

/// <summary>Calls of one instance role made with credentials delivered through IMDSv1: which keys, from where.</summary>
internal sealed class ImdsV1Use(string instance, string? role)
{
    public string Instance { get; } = instance;
    public string? Role { get; } = role;
    public long Count { get; set; }
    public List<ApiCall> Kept { get; } = [];
    public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Addresses { get; } = new(StringComparer.Ordinal);

    public void Add(ApiCall c)
    {
        Count++;
        if (Kept.Count < SessionUse.MaxKept)
            Kept.Add(c);
        if (c.AccessKeyId is { } key && Keys.Count < 8)
            Keys.Add(key);
        if (c.SourceIp is { } ip && Addresses.Count < 8)
            Addresses.Add(ip);
    }
}
