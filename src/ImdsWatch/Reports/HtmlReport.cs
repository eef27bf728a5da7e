using System.Globalization;
using System.Net;
using System.Text;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Indicators;
using ImdsWatch.Store;

namespace ImdsWatch.Reports;

/// <summary>
/// One self-contained HTML page for a set of alerts: counts by severity and host, a timeline (inline SVG), and for
/// each alert its host-to-cloud chain as steps, its process tree, its evidence lines and the investigation guide.
/// No script, no external resource: it opens offline, from a mail attachment or a ticket. Every text from a log is
/// attacker-written (command lines, URLs, host names): it goes through <see cref="H"/>, always.
/// </summary>
public static class HtmlReport
{
    private static readonly Layer[] ChainOrder = [Layer.Web, Layer.Process, Layer.Syslog, Layer.Network, Layer.Cloud, Layer.Anomaly];

    public static string Render(IReadOnlyList<(StoredAlert Stored, string Guide)> items, string source, DateTimeOffset generated)
    {
        var ordered = items.OrderByDescending(i => SeverityOf(i.Stored)).ThenByDescending(i => i.Stored.Risk).ThenBy(i => i.Stored.Time).ToList();
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append(CultureInfo.InvariantCulture, $"<title>imdswatch report: {ordered.Count} alert(s)</title><style>{Css}</style></head><body>\n");
        html.Append(CultureInfo.InvariantCulture, $"<header><h1>imdswatch report</h1><p class=\"meta\">{ordered.Count} alert(s) from {H(source)}, generated {generated.UtcDateTime:yyyy-MM-dd HH:mm} UTC by imdswatch {H(EcsFields.Product)}</p></header>\n");
        if (ordered.Count == 0)
        {
            html.Append("<p class=\"none\">No alerts.</p></body></html>\n");
            return html.ToString();
        }
        Overview(html, ordered);
        Timeline(html, ordered);
        html.Append("<h2>Alerts, most severe first</h2>\n");
        for (var i = 0; i < ordered.Count; i++)
            AlertSection(html, ordered[i].Stored, ordered[i].Guide, i);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    /// <summary>HTML-escaped, with control characters made visible first (a log's ESC or bidi override is shown as text).</summary>
    public static string H(string? text) => WebUtility.HtmlEncode(TerminalText.Escape(text));

    private static Severity SeverityOf(StoredAlert s) =>
        s.Alert?.Severity ?? (Enum.TryParse<Severity>(s.Severity, ignoreCase: true, out var v) ? v : Severity.Low);

    private static string Sev(Severity s) => s.ToString().ToLowerInvariant();

    private static string HostOf(StoredAlert s) => s.Host ?? "(no host name)";

    private static void Overview(StringBuilder html, List<(StoredAlert Stored, string Guide)> items)
    {
        var severities = Enum.GetValues<Severity>().Reverse().ToList();
        html.Append("<section class=\"overview\"><h2>By severity</h2><div class=\"counts\">");
        foreach (var s in severities)
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"count sev-{Sev(s)}\"><b>{items.Count(i => SeverityOf(i.Stored) == s)}</b> {Sev(s)}</div>");
        html.Append("</div>\n<h2>By host</h2><table class=\"hosts\"><thead><tr><th>Host</th>");
        foreach (var s in severities)
            html.Append(CultureInfo.InvariantCulture, $"<th>{Sev(s)}</th>");
        html.Append("<th>total</th><th>first</th><th>last</th></tr></thead><tbody>");
        foreach (var g in items.GroupBy(i => HostOf(i.Stored)).OrderByDescending(g => g.Max(i => SeverityOf(i.Stored))).ThenByDescending(g => g.Count()))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{H(g.Key)}</td>");
            foreach (var s in severities)
            {
                var n = g.Count(i => SeverityOf(i.Stored) == s);
                html.Append(CultureInfo.InvariantCulture, $"<td class=\"{(n > 0 ? "sev-" + Sev(s) : "zero")}\">{n}</td>");
            }
            html.Append(CultureInfo.InvariantCulture, $"<td>{g.Count()}</td><td>{g.Min(i => i.Stored.Time).UtcDateTime:yyyy-MM-dd HH:mm:ss}</td><td>{g.Max(i => i.Stored.Time).UtcDateTime:yyyy-MM-dd HH:mm:ss}</td></tr>");
        }
        html.Append("</tbody></table></section>\n");
    }

    /// <summary>A lane per host, a dot per alert coloured by severity (hover: what and when), linked to its section.</summary>
    private static void Timeline(StringBuilder html, List<(StoredAlert Stored, string Guide)> items)
    {
        var hosts = items.Select(i => HostOf(i.Stored)).Distinct().Order(StringComparer.Ordinal).ToList();
        var first = items.Min(i => i.Stored.Time);
        var last = items.Max(i => i.Stored.Time);
        var span = Math.Max(1.0, (last - first).TotalSeconds);
        const int left = 170, width = 960, lane = 28;
        var height = 40 + lane * hosts.Count;
        var inv = CultureInfo.InvariantCulture;
        html.Append(inv, $"<section><h2>Timeline</h2><svg class=\"timeline\" role=\"img\" aria-label=\"alerts over time by host\" viewBox=\"0 0 {width} {height}\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\">");
        for (var h = 0; h < hosts.Count; h++)
        {
            var y = 20 + lane * h + lane / 2;
            html.Append(inv, $"<text x=\"{left - 8}\" y=\"{y + 4}\" text-anchor=\"end\" class=\"lane\">{H(LineLayout.Cut(hosts[h], 22))}</text>");
            html.Append(inv, $"<line x1=\"{left}\" y1=\"{y}\" x2=\"{width - 20}\" y2=\"{y}\" class=\"axis\"/>");
        }
        var bottom = height - 8;
        html.Append(inv, $"<text x=\"{left}\" y=\"{bottom}\" class=\"tick\">{first.UtcDateTime:yyyy-MM-dd HH:mm:ss}</text>");
        html.Append(inv, $"<text x=\"{width - 20}\" y=\"{bottom}\" text-anchor=\"end\" class=\"tick\">{last.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC</text>");
        var index = items.Select((item, i) => (item, i)).ToList();
        foreach (var (item, i) in index.OrderBy(x => SeverityOf(x.item.Stored))) // the worst drawn last, on top
        {
            var s = item.Stored;
            var x = left + (width - 20 - left) * (s.Time - first).TotalSeconds / span;
            var y = 20 + lane * hosts.IndexOf(HostOf(s)) + lane / 2;
            html.Append(inv, $"<a href=\"#alert-{i}\"><circle cx=\"{x:0.#}\" cy=\"{y}\" r=\"{4 + (int)SeverityOf(s)}\" class=\"dot sev-{Sev(SeverityOf(s))}\"><title>{s.Time.UtcDateTime:HH:mm:ss} {H(s.AlertType)} {Sev(SeverityOf(s))} {s.Risk}: {H(LineLayout.Cut(s.Summary, 160))}</title></circle></a>");
        }
        html.Append("</svg></section>\n");
    }

    private static void AlertSection(StringBuilder html, StoredAlert s, string guide, int index)
    {
        var inv = CultureInfo.InvariantCulture;
        var severity = Sev(SeverityOf(s));
        var a = s.Alert;
        html.Append(inv, $"<section class=\"alert\" id=\"alert-{index}\"><h3><span class=\"badge sev-{severity}\">{severity} {s.Risk}</span> {H(s.AlertType)} on {H(HostOf(s))}</h3>");
        html.Append(inv, $"<p class=\"summary\">{H(s.Summary)}</p>");
        html.Append(inv, $"<p class=\"meta\">{s.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff} UTC · alert {H(s.Id)}{(a is null ? "" : " · rule " + H(a.RuleId))}</p>");
        if (a is not null)
        {
            Chain(html, a);
            ProcessTree(html, a);
            Evidence(html, a);
            if (a.RiskReasons.Count > 0)
                html.Append("<h4>Why this score</h4><ul class=\"reasons\">").AppendJoin("", a.RiskReasons.Select(r => $"<li>{H(r)}</li>")).Append("</ul>");
        }
        html.Append(inv, $"<details><summary>Investigation guide</summary><pre class=\"guide\">{H(guide)}</pre></details></section>\n");
    }

    /// <summary>The layers the alert spans, in the order an attack crosses them (web or host → network → cloud), as steps.</summary>
    private static void Chain(StringBuilder html, Alert a)
    {
        html.Append("<h4>From host to cloud</h4><ol class=\"chain\">");
        foreach (var layer in ChainOrder.Where(a.Layers.Contains))
        {
            var (title, detail) = layer switch
            {
                Layer.Web => ("Web request", a.Http is { } r ? $"{a.Source} → {r.Method} {r.Target} → {r.Status}" : a.Source ?? ""),
                Layer.Process => ("Process on the host", a.Process.IsNone ? "" : $"{a.Process.Executable ?? a.Process.Name} (pid {a.Process.Pid}, user {a.Process.User.Name ?? a.Process.User.Uid?.ToString(CultureInfo.InvariantCulture) ?? "?"})"),
                Layer.Syslog => ("Logged by a program", a.Process.Name ?? ""),
                Layer.Network => ("Metadata service reached", $"{a.Access.ToWire()} {a.DestinationIp}{(a.DestinationPort is { } p ? ":" + p.ToString(CultureInfo.InvariantCulture) : "")} {a.Url}"),
                Layer.Cloud => ("Credentials used in the cloud", a.Cloud is { } c ? $"{c.RoleName ?? c.PrincipalArn} from {c.SourceIp}: {string.Join(", ", c.EventNames.Take(6))}" : ""),
                _ => ("Unusual for this host", a.Explanation ?? ""),
            };
            html.Append(CultureInfo.InvariantCulture, $"<li><b>{title}</b><span>{H(detail.Trim())}</span></li>");
        }
        html.Append("</ol>");
    }

    private static void ProcessTree(StringBuilder html, Alert a)
    {
        if (a.Process.IsNone)
            return;
        html.Append("<h4>Process tree</h4><ul class=\"tree\">");
        var depth = 0;
        foreach (var p in a.Ancestors.Reverse())
        {
            html.Append(CultureInfo.InvariantCulture, $"<li style=\"margin-left:{depth++ * 1.5}em\"><code>{H(p.Executable ?? p.Name ?? "?")}</code> <span class=\"pid\">pid {p.Pid}</span> <code class=\"cmd\">{H(p.Args.Count > 0 ? p.CommandLine : "")}</code></li>");
        }
        var me = a.Process;
        html.Append(CultureInfo.InvariantCulture, $"<li class=\"me\" style=\"margin-left:{depth * 1.5}em\"><code>{H(me.Executable ?? me.Name ?? "?")}</code> <span class=\"pid\">pid {me.Pid}</span> <code class=\"cmd\">{H(me.Args.Count > 0 ? me.CommandLine : "(command line not recorded)")}</code></li></ul>");
    }

    private static void Evidence(StringBuilder html, Alert a)
    {
        if (a.Evidence.Count == 0)
            return;
        html.Append("<h4>Evidence</h4><table class=\"evidence\"><thead><tr><th>kind</th><th>where</th><th>record</th></tr></thead><tbody>");
        foreach (var e in a.Evidence.Take(50))
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{H(e.Kind)}</td><td><code>{H(e.File)}:{e.Line}</code></td><td><code>{H(e.Detail)}</code></td></tr>");
        if (a.Evidence.Count > 50)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td colspan=\"3\">… {a.Evidence.Count - 50} more</td></tr>");
        html.Append("</tbody></table>");
    }

    private const string Css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:1em 1.5em;color:#1d232a;background:#fbfbfc}
        h1{margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #dde}h3{margin:.2em 0}h4{margin:1em 0 .3em}
        .meta{color:#5b6570;margin:.2em 0}.counts{display:flex;gap:.8em}.count{padding:.5em 1em;border-radius:6px;min-width:6em}
        .count b{font-size:1.6em;display:block}
        table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e4e6ea;padding:.25em .5em;text-align:left;vertical-align:top}
        td.zero{color:#aab}code{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
        .sev-critical{background:#b3261e;color:#fff}.sev-high{background:#f4b4ae}.sev-medium{background:#fde6a8}.sev-low{background:#e3e7ec}
        .badge{padding:.1em .5em;border-radius:4px;font-size:.85em;text-transform:uppercase}
        .alert{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:.8em 1.2em;margin:1em 0}
        .summary{font-weight:500}.chain{display:flex;flex-wrap:wrap;gap:.4em;list-style:none;padding:0;counter-reset:step}
        .chain li{counter-increment:step;border:1px solid #9aa5b1;border-radius:6px;padding:.4em .7em;max-width:30em;background:#f3f6f9}
        .chain li b{display:block}.chain li b::before{content:counter(step) ". "}.chain li+li::before{content:"→";float:left;margin:-.1em .5em 0 -1.3em;color:#5b6570}
        .chain li span{font-size:.9em;word-break:break-all}
        .tree{list-style:none;padding-left:0}.tree li::before{content:"└ ";color:#9aa5b1}.tree .me{font-weight:600}.pid{color:#5b6570}
        .guide{white-space:pre-wrap;background:#f6f8fa;padding:.8em;border-radius:6px;font-size:12px}
        svg.timeline{background:#fff;border:1px solid #e1e4e8;border-radius:8px}.axis{stroke:#d0d5db}.lane,.tick{font-size:11px;fill:#5b6570}
        .dot{stroke:#333;stroke-width:.5}circle.sev-critical{fill:#b3261e}circle.sev-high{fill:#e8736a}circle.sev-medium{fill:#f2c14e}circle.sev-low{fill:#aab4bf}
        details summary{cursor:pointer;color:#0b57d0;margin-top:.6em}
        """;
}
