using System.Net;
using ImdsWatch.Events;

namespace ImdsWatch.Detection.Cloud;

/// <summary>
/// What is known of one instance session (instance, role) used from one address: counts and facts, and the first
/// calls as evidence (bounded); never every call.
/// </summary>
internal sealed class SessionUse(string instance, string? role, string ip)
{
    public const int MaxKept = 50;

    private static readonly string[] Recon = ["GetCallerIdentity", "ListBuckets", "DescribeInstances", "ListRoles", "ListUsers", "GetAccountAuthorizationDetails", "ListAttachedRolePolicies", "GetRolePolicy", "ListSecrets", "DescribeDBInstances"];
    private static readonly string[] DesktopSystems = ["Darwin", "Mac OS X", "Macintosh", "Windows NT 10.0; Win64; x64) AppleWebKit"];

    private string? _lastAgent;

    public string Instance { get; } = instance;
    public string? Role { get; } = role;
    public string Ip { get; } = ip;
    public IPAddress? Address { get; } = IPAddress.TryParse(ip, out var a) ? a : null;

    public long Count { get; private set; }
    public List<ApiCall> Kept { get; } = [];
    public List<string> Names { get; } = [];
    public List<string> ReconNames { get; } = [];
    public bool IamChanges { get; private set; }
    public bool DataRead { get; private set; }
    public string? DesktopAgent { get; private set; }

    /// <summary>VPC endpoints the calls came through (bounded), and whether any came without one.</summary>
    public HashSet<string> Endpoints { get; } = new(StringComparer.Ordinal);
    public bool WithoutEndpoint { get; private set; }

    /// <summary>How the credentials used were delivered (ec2RoleDelivery "1.0", "2.0").</summary>
    public HashSet<string> Deliveries { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Takes one call in; returns whether it was kept as evidence (the caller holds the budget; the first call is
    /// always kept, so that a judged session has something to show).
    /// </summary>
    public bool Add(ApiCall c, bool mayKeep)
    {
        Count++;
        if (Names.Count < 6 && !Names.Contains(c.EventName))
            Names.Add(c.EventName);
        if (Array.IndexOf(Recon, c.EventName) >= 0 && !ReconNames.Contains(c.EventName))
            ReconNames.Add(c.EventName);
        IamChanges |= c.EventSource == "iam.amazonaws.com" && (c.EventName.StartsWith("Create", StringComparison.Ordinal) || c.EventName.StartsWith("Attach", StringComparison.Ordinal) || c.EventName.StartsWith("Put", StringComparison.Ordinal));
        DataRead |= c.EventName is "GetObject" or "GetSecretValue" or "GetParameter" or "GetParameters";
        if (DesktopAgent is null && c.UserAgent is { } ua && ua != _lastAgent)
        {
            _lastAgent = ua; // the same agent call after call: looked at once
            foreach (var d in DesktopSystems)
            {
                if (ua.Contains(d, StringComparison.Ordinal))
                    DesktopAgent = ua;
            }
        }
        if (c.VpcEndpointId is { } vpce)
        {
            if (Endpoints.Count < 8)
                Endpoints.Add(vpce);
        }
        else
        {
            WithoutEndpoint = true;
        }
        if (c.Ec2RoleDelivery is { } delivery && Deliveries.Count < 4)
            Deliveries.Add(delivery);
        if ((!mayKeep && Kept.Count > 0) || Kept.Count >= MaxKept)
            return false;
        Kept.Add(c);
        return true;
    }
}
