using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection.Web;

/// <summary>
/// MetadataSSRFAttempt: a request whose URL, query or Host names a metadata endpoint in any spelling or encoding —
/// the SSRF attempt as the web server saw it, with the client and whether it got an answer (status and size).
/// </summary>
public sealed class SsrfRule(RuleContext context) : IDetectionRule
{
    public const AlertType Type = AlertType.MetadataSSRFAttempt;

    private readonly EndpointReferenceFinder _finder = context.Rules.Finder;
    private readonly List<(HttpRequest Request, EndpointReference Reference)> _hits = [];

    public void Observe(IObservedEvent e, IFindings findings)
    {
        if (e is not HttpRequest r)
            return;
        var refs = _finder.Find(r.Target).Concat(r.HostHeader is null ? [] : _finder.Find("Host: " + r.HostHeader)).ToList();
        var best = refs.OrderByDescending(x => x.Endpoint is not null).ThenByDescending(x => x.Class).FirstOrDefault();
        if (best is not null)
            _hits.Add((r, best));
    }

    public void Complete(IFindings findings)
    {
        foreach (var g in _hits.GroupBy(h => (h.Request.ClientIp, h.Request.Evidence.File)))
            findings.Raise(Build(g.OrderBy(h => h.Request.Timestamp).ToList()));
        _hits.Clear();
    }

    private Alert Build(List<(HttpRequest Request, EndpointReference Reference)> hits)
    {
        var first = hits[0].Request;
        var best = hits.Select(h => h.Reference).OrderByDescending(r => r.Class).First();
        var succeeded = hits.Where(h => h.Request.Status is >= 200 and < 300 && h.Request.Bytes > 0).ToList();
        var risk = context.Rules.Risk.Start().Add(best.Class switch
        {
            AccessClass.Credentials => "web.credentials",
            AccessClass.Token => "web.token",
            AccessClass.UserData => "web.user-data",
            _ => "web.other",
        }, best.Class.ToWire())
            .AddIf(succeeded.Count > 0, "web.answered", succeeded.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .AddIf(hits.Any(h => h.Reference.Obfuscation != ObfuscationKind.None), "web.obfuscated")
            .Clamp();
        return new Alert
        {
            Id = MetadataAccessDetector.AlertId(first.ClientIp, 0, (ulong)first.Timestamp.ToUnixTimeMilliseconds(), Type + "|" + first.Evidence.File),
            Timestamp = first.Timestamp,
            RuleId = "imds.web.ssrf-attempt",
            RuleName = "Request naming the metadata service (server-side request forgery)",
            AlertType = Type,
            Access = best.Class,
            Severity = risk.Severity,
            RiskScore = risk.Score,
            RiskReasons = risk.Reasons,
            Host = null,
            Process = Events.ProcessSnapshot.None,
            DestinationIp = null,
            Url = best.Url ?? first.Target,
            CloudProvider = best.Provider,
            CredentialRole = hits.Select(h => CredentialPath.RoleOf(h.Reference.Url ?? h.Reference.Path)).FirstOrDefault(r => r is not null),
            EndpointId = best.Endpoint?.Id,
            Layers = [Layer.Web],
            Evidence = hits.Take(100).Select(h => new EvidenceItem("http", h.Request.Evidence.File, h.Request.Evidence.Line, h.Request.Evidence.RecordId,
                $"{h.Request.Method} {h.Request.Target} → {h.Request.Status} {h.Request.Bytes} B")).ToList(),
            Tags = [.. succeeded.Count > 0 ? new[] { "ssrf", "answered" } : ["ssrf"], .. Enum.GetValues<ObfuscationKind>().Where(k => k != ObfuscationKind.None && hits.Any(h => h.Reference.Obfuscation.HasFlag(k))).Select(k => "evasion:" + k.ToString().ToLowerInvariant())],
            Outcome = succeeded.Count > 0 ? "success" : "failure",
            Summary = $"{first.ClientIp} asked the web server for {best.Class.ToWire()} of the metadata service {hits.Count} time(s){(succeeded.Count > 0 ? $", {succeeded.Count} answered" : ", none answered")}: {first.Method} {first.Target}",
            Source = first.ClientIp,
            Http = Exchange(succeeded.Count > 0 ? succeeded[0].Request : first),
        };
    }

    private static HttpExchange Exchange(HttpRequest r) => new(r.Method, r.Target, r.Status, r.UserAgent);
}
