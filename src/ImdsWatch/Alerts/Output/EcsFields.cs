using System.Net;
using System.Reflection;
using System.Text.Json;

namespace ImdsWatch.Alerts.Output;

/// <summary>
/// The parts of an alert's ECS document that are the same kind of thing for every alert: the version, rule,
/// observer, threat, url/http split and related.*. Names and types follow ecs_flat.yml of ECS 8.11
/// (tests/ImdsWatch.Tests/Alerts/ecs-fields.tsv lists every field written, and a test holds the output to it).
/// </summary>
internal static class EcsFields
{
    public const string Version = "8.11.0";
    public const string Dataset = "imdswatch.alert";

    /// <summary>The release, without the commit (observer.version).</summary>
    public static readonly string Product = (typeof(EcsFields).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>intrusion_detection, and the kind of activity each layer saw (ECS allows "info" as the type of all).</summary>
    public static IEnumerable<string> Categories(Alert a)
    {
        var categories = new List<string> { "intrusion_detection" };
        foreach (var layer in a.Layers)
        {
            var category = layer switch
            {
                Layer.Process => "process",
                Layer.Network or Layer.Syslog => "network",
                Layer.Web => "web",
                Layer.Cloud => "api",
                _ => null,
            };
            if (category is not null && !categories.Contains(category))
                categories.Add(category);
        }
        return categories;
    }

    /// <summary>event.action: the alert type in lower case with dashes (MetadataAPIProcess → metadata-api-process).</summary>
    public static string Action(AlertType type)
    {
        var name = type.ToString();
        var sb = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            // a dash before an upper-case letter that starts a word: after a lower-case one, or before a lower-case one
            if (i > 0 && char.IsUpper(c) && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1]))))
                sb.Append('-');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    public static void WriteRule(Utf8JsonWriter w, Alert a)
    {
        w.WriteStartObject("rule");
        w.WriteString("id", a.RuleId);
        w.WriteString("name", a.RuleName);
        w.WriteString("ruleset", "imdswatch");
        w.WriteString("category", a.AlertType.ToString());
        w.WriteEndObject();
    }

    public static void WriteObserver(Utf8JsonWriter w)
    {
        w.WriteStartObject("observer");
        w.WriteString("vendor", "imdswatch");
        w.WriteString("product", "imdswatch");
        w.WriteString("version", Product);
        w.WriteString("type", "ids");
        w.WriteEndObject();
    }

    /// <summary>url.original, and its parts: an absolute URL split by Uri, a request target (path?query) at its '?'.</summary>
    public static void WriteUrl(Utf8JsonWriter w, string? url)
    {
        if (url is null)
            return;
        w.WriteStartObject("url");
        w.WriteString("original", url);
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            w.WriteString("scheme", uri.Scheme);
            w.WriteString("domain", uri.IdnHost);
            if (!uri.IsDefaultPort)
                w.WriteNumber("port", uri.Port);
            w.WriteString("path", uri.AbsolutePath);
            if (uri.Query.Length > 1)
                w.WriteString("query", uri.Query[1..]);
        }
        else if (url.StartsWith('/'))
        {
            var q = url.IndexOf('?', StringComparison.Ordinal);
            w.WriteString("path", q < 0 ? url : url[..q]);
            if (q >= 0 && q + 1 < url.Length)
                w.WriteString("query", url[(q + 1)..]);
        }
        w.WriteEndObject();
    }

    public static void WriteHttp(Utf8JsonWriter w, HttpExchange? http)
    {
        if (http is null)
            return;
        w.WriteStartObject("http");
        w.WriteStartObject("request");
        w.WriteString("method", http.Method);
        w.WriteEndObject();
        if (http.Status > 0)
        {
            w.WriteStartObject("response");
            w.WriteNumber("status_code", http.Status);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    public static void WriteThreat(Utf8JsonWriter w)
    {
        w.WriteStartObject("threat");
        w.WriteString("framework", "MITRE ATT&CK");
        w.WriteStartObject("tactic");
        w.WriteString("id", "TA0006");
        w.WriteString("name", "Credential Access");
        w.WriteEndObject();
        w.WriteStartObject("technique");
        w.WriteString("id", "T1552");
        w.WriteString("name", "Unsecured Credentials");
        w.WriteStartObject("subtechnique");
        w.WriteString("id", Alert.TechniqueId);
        w.WriteString("name", "Cloud Instance Metadata API");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>related.ip/user/hosts: every address, user and host name the alert names, once each.</summary>
    public static void WriteRelated(Utf8JsonWriter w, Alert a)
    {
        var ips = new List<string>();
        void Ip(string? text)
        {
            if (text is not null && IPAddress.TryParse(text, out var ip) && !ips.Contains(ip.ToString()))
                ips.Add(ip.ToString());
        }
        Ip(a.DestinationIp?.ToString());
        Ip(a.Source);
        Ip(a.Cloud?.SourceIp);

        var users = new List<string>();
        void User(string? name)
        {
            if (!string.IsNullOrEmpty(name) && name != "unset" && !users.Contains(name))
                users.Add(name);
        }
        User(a.Process.User.Name);
        User(a.Process.User.EffectiveName);
        User(a.Process.User.AuditName);
        User(UserNameOf(a.Cloud?.PrincipalArn));

        var hosts = new List<string>();
        if (a.Host is not null)
            hosts.Add(a.Host);
        if (a.Url is not null && Uri.TryCreate(a.Url, UriKind.Absolute, out var uri) && uri.HostNameType == UriHostNameType.Dns && !hosts.Contains(uri.IdnHost))
            hosts.Add(uri.IdnHost);

        if (ips.Count + users.Count + hosts.Count == 0)
            return;
        w.WriteStartObject("related");
        Strings("ip", ips);
        Strings("user", users);
        Strings("hosts", hosts);
        w.WriteEndObject();

        void Strings(string name, List<string> values)
        {
            if (values.Count == 0)
                return;
            w.WriteStartArray(name);
            foreach (var v in values)
                w.WriteStringValue(v);
            w.WriteEndArray();
        }
    }

    /// <summary>The user or session name an ARN ends in (arn:aws:sts::1:assumed-role/Role/i-0abc → i-0abc), or null.</summary>
    public static string? UserNameOf(string? arn)
    {
        if (string.IsNullOrEmpty(arn))
            return null;
        var slash = arn.LastIndexOf('/');
        if (slash >= 0 && slash + 1 < arn.Length)
            return arn[(slash + 1)..];
        var colon = arn.LastIndexOf(':'); // arn:aws:iam::123456789012:root
        return colon >= 0 && colon + 1 < arn.Length ? arn[(colon + 1)..] : arn;
    }
}
