using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection.Web;

/// <summary>
/// MetadataSSRFAttempt: a request whose URL, query or Host names a metadata endpoint in any spelling or encoding —
/// the SSRF attempt as the web server saw it, with the client and whether it got an answer (status and size).
/// </summary>
public sealed class SsrfRule(EndpointReferenceFinder finder)
{
    public const string AlertType = "MetadataSSRFAttempt";

    /// <summary>Points for a request the server answered (2xx with a body), and for an encoded address (read by exports too).</summary>
    internal const int AnsweredRisk = 25;
    internal const int ObfuscatedRisk = 10;

    /// <summary>The risk of a request by what it asked for, before the answer and the spelling add theirs.</summary>
    internal static int BaseRisk(AccessClass access) =>
        access switch { AccessClass.Credentials => 60, AccessClass.Token or AccessClass.UserData => 50, _ => 40 };

    public List<Alert> Evaluate(IEnumerable<HttpRequest> requests)
    {
        var hits = new List<(HttpRequest Request, EndpointReference Reference)>();
        foreach (var r in requests)
        {
            var refs = finder.Find(r.Target).Concat(r.HostHeader is null ? [] : finder.Find("Host: " + r.HostHeader)).ToList();
            var best = refs.OrderByDescending(x => x.Endpoint is not null).ThenByDescending(x => x.Class).FirstOrDefault();
            if (best is not null)
                hits.Add((r, best));
        }
        return hits.GroupBy(h => (h.Request.ClientIp, h.Request.Evidence.File))
            .Select(g => Build(g.OrderBy(h => h.Request.Timestamp).ToList()))
            .OrderBy(a => a.Timestamp).ToList();
    }

    private static Alert Build(List<(HttpRequest Request, EndpointReference Reference)> hits)
    {
        var first = hits[0].Request;
        var best = hits.Select(h => h.Reference).OrderByDescending(r => r.Class).First();
        var succeeded = hits.Where(h => h.Request.Status is >= 200 and < 300 && h.Request.Bytes > 0).ToList();
        var risk = BaseRisk(best.Class);
        var reasons = new List<string> { $"+{risk} request for {best.Class.ToWire()} through the web server" };
        if (succeeded.Count > 0)
        {
            risk += AnsweredRisk;
            reasons.Add($"+{AnsweredRisk} answered: {succeeded.Count} request(s) with status 2xx and a body (the server fetched and returned it)");
        }
        if (hits.Any(h => h.Reference.Obfuscation != ObfuscationKind.None))
        {
            risk += ObfuscatedRisk;
            reasons.Add($"+{ObfuscatedRisk} encoded or obfuscated address");
        }
        risk = Math.Min(risk, 100);
        return new Alert
        {
            Id = MetadataAccessDetector.AlertId(first.ClientIp, 0, (ulong)first.Timestamp.ToUnixTimeMilliseconds(), AlertType + "|" + first.Evidence.File),
            Timestamp = first.Timestamp,
            RuleId = "imds.web.ssrf-attempt",
            RuleName = "Request naming the metadata service (server-side request forgery)",
            AlertType = AlertType,
            Access = best.Class,
            Severity = RiskModel.SeverityOf(risk),
            RiskScore = risk,
            RiskReasons = reasons,
            Host = null,
            Process = Events.ProcessSnapshot.None,
            DestinationIp = null,
            Url = best.Url ?? first.Target,
            CloudProvider = best.Provider,
            EndpointId = best.Endpoint?.Id,
            Layers = ["web"],
            Evidence = hits.Take(100).Select(h => new EvidenceItem("http", h.Request.Evidence.File, h.Request.Evidence.Line, h.Request.Evidence.RecordId,
                $"{h.Request.Method} {h.Request.Target} → {h.Request.Status} {h.Request.Bytes} B")).ToList(),
            Tags = [.. succeeded.Count > 0 ? new[] { "ssrf", "answered" } : ["ssrf"], .. Enum.GetValues<ObfuscationKind>().Where(k => k != ObfuscationKind.None && hits.Any(h => h.Reference.Obfuscation.HasFlag(k))).Select(k => "evasion:" + k.ToString().ToLowerInvariant())],
            Outcome = succeeded.Count > 0 ? "success" : "failure",
            Summary = $"{first.ClientIp} asked the web server for {best.Class.ToWire()} of the metadata service {hits.Count} time(s){(succeeded.Count > 0 ? $", {succeeded.Count} answered" : ", none answered")}: {first.Method} {first.Target}",
            Source = first.ClientIp,
        };
    }
}
