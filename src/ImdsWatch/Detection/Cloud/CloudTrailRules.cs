using System.Net;
using System.Net.Sockets;
using ImdsWatch.Alerts;
using ImdsWatch.Events;

namespace ImdsWatch.Detection.Cloud;

/// <summary>
/// The cloud layer, one call at a time. InstanceCredentialExfiltration: an EC2 instance role's session (session
/// name i-…) used from somewhere that is not the instance, as GuardDuty's InstanceCredentialExfiltration findings;
/// each alert says what it relied on. IMDSv1CredentialDelivery: credentials that came from IMDSv1 (hardening).
/// And the seed's MetadataCredentialsUsed condition, as written. State is kept per instance session and address,
/// per instance, per address of people and per v1-delivered role, each table bounded (<see cref="CloudTrailLimits"/>):
/// an entry let go of is judged on what was known and counted, so memory does not grow with the input.
/// </summary>
public sealed class CloudTrailRules
{
    public const AlertType Exfiltration = AlertType.InstanceCredentialExfiltration;
    public const AlertType ImdsV1Delivery = AlertType.IMDSv1CredentialDelivery;
    public const AlertType MetadataCredentialsUsed = AlertType.MetadataCredentialsUsed;

    /// <summary>User agents of on-instance AWS agents: their calls come from the instance itself (read by exports too).</summary>
    internal static readonly IReadOnlyList<string> OnInstanceAgents = ["amazon-ssm-agent", "ssm-agent", "CloudWatchAgent", "amazon-cloudwatch-agent", "ec2-instance-connect", "aws-ec2-instance-connect", "AmazonSSMAgent"];
    private static readonly IReadOnlyList<Alert> None = [];

    private readonly CloudTrailOptions _options;
    private readonly CloudTrailLimits _limits;
    private readonly BoundedTable<(string Instance, string? Role, string Ip), SessionUse> _sessions;
    private readonly BoundedTable<string, InstanceState> _instances;
    private readonly BoundedTable<string, AddressState> _people;
    private readonly BoundedTable<(string Instance, string? Role), ImdsV1Use> _v1;
    private readonly List<Alert> _judgedEarly = [];
    private readonly Dictionary<string, bool> _agents = new(StringComparer.Ordinal);
    private long _kept;

    public CloudTrailRules(CloudTrailOptions options, CloudTrailLimits? limits = null)
    {
        _options = options;
        _limits = limits ?? new CloudTrailLimits();
        _sessions = new(_limits.Sessions, (_, use) => Release(use, Judge(use)));
        _instances = new(_limits.Instances);
        _people = new(_limits.Addresses);
        _v1 = new(_limits.ImdsV1Roles, (_, use) => _judgedEarly.Add(ImdsV1Alert(use)));
        foreach (var (instance, addresses) in options.InstanceAddresses)
        {
            var state = _instances.GetOrAdd(instance, _ => new InstanceState());
            foreach (var a in addresses)
                state.AddHome(a.ToString());
        }
    }

    /// <summary>Entries let go of per table, and calls not kept as evidence once the budget was spent.</summary>
    public IReadOnlyDictionary<string, long> Evicted => new Dictionary<string, long>
    {
        ["sessions"] = _sessions.Evicted,
        ["instances"] = _instances.Evicted,
        ["addresses"] = _people.Evicted,
        ["imdsv1 roles"] = _v1.Evicted,
    };

    public long EvidenceNotKept { get; private set; }

    /// <summary>All calls at once (tests, tools): observe each, then complete.</summary>
    public List<Alert> Evaluate(IEnumerable<ApiCall> calls)
    {
        var alerts = new List<Alert>();
        foreach (var c in calls.OrderBy(c => c.Timestamp))
            alerts.AddRange(Observe(c));
        alerts.AddRange(Complete());
        return alerts.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>One call; returns the alerts it completes (the seed rule's, and those of state let go of).</summary>
    public IReadOnlyList<Alert> Observe(ApiCall c)
    {
        var seed = SeedAlert(c);
        var instance = c.InstanceId;
        ObservePerson(c, instance);
        if (instance is not null)
            ObserveInstanceCall(c, instance, c.RoleName);
        if (seed is null && _judgedEarly.Count == 0)
            return None;
        var done = new List<Alert>(_judgedEarly);
        _judgedEarly.Clear();
        if (seed is not null)
            done.Add(seed);
        return done;
    }

    /// <summary>End of input: every session still held is judged.</summary>
    public IReadOnlyList<Alert> Complete()
    {
        var alerts = new List<Alert>(_judgedEarly);
        _judgedEarly.Clear();
        foreach (var (_, use) in _sessions.Entries)
        {
            if (Judge(use) is { } alert)
                alerts.Add(alert);
        }
        foreach (var (_, use) in _v1.Entries)
            alerts.Add(ImdsV1Alert(use));
        return alerts.OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
    }

    private void ObserveInstanceCall(ApiCall c, string instance, string? role)
    {
        var state = _instances.GetOrAdd(instance, _ => new InstanceState());
        if (c.Ec2RoleDelivery is { } delivery && state.AnyDeliveries.Count < 4)
            state.AnyDeliveries.Add(delivery);
        if (c.Ec2RoleDelivery == "1.0")
            _v1.GetOrAdd((instance, role), k => new ImdsV1Use(k.Instance, k.Role)).Add(c);
        if (c.SourceIp is not { } ip)
            return;
        var onInstance = c.UserAgent is { } ua && IsOnInstanceAgent(ua);
        if (onInstance && state.AddHome(ip) && _sessions.TryPeek((instance, role, ip), out var earlier))
        {
            _sessions.Remove((instance, role, ip)); // it was the instance all along
            _kept -= earlier.Kept.Count;
        }
        if (onInstance || state.Home.Contains(ip))
        {
            state.AddHomeEndpoint(c.VpcEndpointId);
            if (c.Ec2RoleDelivery is { } own && state.OwnDeliveries.Count < 4)
                state.OwnDeliveries.Add(own);
            return;
        }
        var use = _sessions.GetOrAdd((instance, role, ip), k => new SessionUse(k.Instance, k.Role, k.Ip));
        var mayKeep = _kept < _limits.EvidenceCalls;
        if (use.Add(c, mayKeep))
            _kept++;
        else if (!mayKeep)
            EvidenceNotKept++;
    }

    /// <summary>Does a user agent name an on-instance agent? Asked per call, of a few hundred distinct agents: remembered.</summary>
    private bool IsOnInstanceAgent(string userAgent)
    {
        if (_agents.TryGetValue(userAgent, out var known))
            return known;
        if (_agents.Count >= 10_000)
            _agents.Clear();
        var agent = false;
        foreach (var a in OnInstanceAgents)
            agent |= userAgent.Contains(a, StringComparison.OrdinalIgnoreCase);
        _agents[userAgent] = agent;
        return agent;
    }

    /// <summary>Addresses people call from: IAM users, the root account, console and federated sessions.</summary>
    private void ObservePerson(ApiCall c, string? instance)
    {
        var person = c.IdentityType is "IAMUser" or "Root" or "SAMLUser" or "WebIdentityUser" or "IdentityCenterUser"
            || (c.IdentityType == "AssumedRole" && instance is null && c.UserAgent?.Contains("console", StringComparison.OrdinalIgnoreCase) == true);
        if (!person || c.SourceIp is not { } ip)
            return;
        if (_people.TryGet(ip, out var known) && known.People.Count >= AddressState.MaxPeople && c.EventName != "SendCommand")
            return; // nothing new to learn (the common case: the same user, again)
        if (known is null && !IPAddress.TryParse(ip, out _))
            return; // a service name ("ssm.amazonaws.com")
        var name = c.Arn is { } arn ? arn[(arn.LastIndexOf('/') + 1)..] : c.PrincipalId ?? c.IdentityType!;
        _people.GetOrAdd(ip, _ => new AddressState()).Add($"{c.IdentityType} {name}", c.EventName == "SendCommand" ? c.RequestInstanceIds : []);
    }

    private Alert? Release(SessionUse use, Alert? alert)
    {
        _kept -= use.Kept.Count;
        if (alert is not null)
            _judgedEarly.Add(alert);
        return alert;
    }

    /// <summary>
    /// Is this use of the instance's session away from the instance? Each piece of evidence is weighed and named;
    /// with none, nothing is claimed — a private address, or one inside AWS, proves nothing by itself either way.
    /// </summary>
    private Alert? Judge(SessionUse use)
    {
        if (use.Address is not { } address)
            return null; // an AWS service calling on the role's behalf ("ec2.amazonaws.com")
        var ip = use.Ip;
        if (_options.TrustedNetworks.Any(n => n.Contains(address)))
            return null;
        _instances.TryPeek(use.Instance, out var instance);
        if (instance?.Home.Contains(ip) == true)
            return null;
        var isPrivate = IsPrivate(address);
        var evidence = new List<(string Reason, string Basis)>();
        if (instance is { Home.Count: > 0 })
            evidence.Add(($"{use.Instance} itself calls from {string.Join(", ", instance.Home)}; these came from {ip}", "the instance's own addresses"));
        var outsideAws = !isPrivate && use.Endpoints.Count == 0 && _options.AwsRanges is { } ranges && !ranges.Contains(address);
        if (outsideAws)
            evidence.Add(($"{ip} is outside AWS (AWS ip-ranges.json)", "AWS ip-ranges.json"));
        if (_people.TryPeek(ip, out var people) && people.People.Count > 0)
        {
            var commanded = people.CommandedInstances.Contains(use.Instance) ? $", who sent commands to {use.Instance} from it (SendCommand)" : "";
            evidence.Add(($"{ip} is where {string.Join(", ", people.People)} call{(people.People.Count == 1 ? "s" : "")} from, not an instance{commanded}", "whose address it is"));
        }
        if (use.DesktopAgent is { } desktop)
            evidence.Add(($"the client runs on a desktop system ({desktop})", "the user agent"));
        if (instance is { HomeEndpoints.Count: > 0 } && !instance.HomeWithoutEndpoint && (use.WithoutEndpoint || !use.Endpoints.IsSubsetOf(instance.HomeEndpoints)))
        {
            var these = use.Endpoints.Count == 0 ? "through no VPC endpoint" : $"through {string.Join(", ", use.Endpoints)}";
            evidence.Add(($"{use.Instance}'s own sessions come through {string.Join(", ", instance.HomeEndpoints)}; these {these}", "the VPC endpoints the instance uses"));
        }
        if (instance is { OwnDeliveries.Count: > 0 } && use.Deliveries.Count > 0 && !use.Deliveries.Overlaps(instance.OwnDeliveries))
            evidence.Add(($"these credentials were delivered through IMDSv{Version(use.Deliveries)}, the instance's own sessions' through IMDSv{Version(instance.OwnDeliveries)}", "how the instance's own credentials were delivered"));
        if (evidence.Count == 0)
            return null;
        var caveat = isPrivate ? "; the address is private, which alone proves nothing"
            : _options.AwsRanges is not null && !outsideAws ? "; the address is inside AWS, which alone proves nothing" : "";
        var basis = "relied on " + string.Join(" and ", evidence.Select(e => e.Basis)) + caveat;
        return CloudTrailAlerts.Exfiltration(use, outsideAws, evidence.Select(e => e.Reason).ToList(), basis);
    }

    private static string Version(HashSet<string> deliveries) =>
        string.Join(" and v", deliveries.Order(StringComparer.Ordinal).Select(d => d.EndsWith(".0", StringComparison.Ordinal) ? d[..^2] : d));

    private Alert ImdsV1Alert(ImdsV1Use use)
    {
        _instances.TryPeek(use.Instance, out var instance);
        var own = instance is null ? "no other session of the instance was seen"
            : instance.OwnDeliveries.Contains("1.0") ? "the instance's own sessions use IMDSv1 too: the instance allows it"
            : instance.OwnDeliveries.Contains("2.0") ? "the instance's own sessions get theirs through IMDSv2: this copy was fetched another way (an SSRF, a script without a token)"
            : instance.AnyDeliveries.Contains("2.0") ? "other sessions of the instance use IMDSv2"
            : "no session of the instance was seen using IMDSv2";
        return CloudTrailAlerts.ImdsV1(use, own);
    }

    private static Alert? SeedAlert(ApiCall c) =>
        c is { RequestRoleArn: not null, EventName: "GetSessionToken", IdentityType: "AWSService", SourceIp: "169.254.169.254" } ? CloudTrailAlerts.Seed(c) : null;

    internal static bool IsPrivate(IPAddress a)
    {
        if (a.AddressFamily == AddressFamily.InterNetworkV6)
            return a.IsIPv6SiteLocal || a.IsIPv6LinkLocal || IPAddress.IsLoopback(a) || (a.GetAddressBytes()[0] & 0xFE) == 0xFC;
        var b = a.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || b[0] == 127 || (b[0] == 100 && (b[1] & 0xC0) == 64);
    }
}
