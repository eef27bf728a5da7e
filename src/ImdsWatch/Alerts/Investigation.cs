using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImdsWatch.Anomaly;
using ImdsWatch.Store;
using static ImdsWatch.Sources.JsonFields;

namespace ImdsWatch.Alerts;

/// <summary>
/// The seed's investigation guide and response steps, written out for one alert with its facts: who and when,
/// the user's logins and commands on that host from the same logs, the process and its ancestors, what was
/// requested, when the user and program were first seen, related alerts, and concrete response commands.
/// </summary>
public static partial class Investigation
{
    public static string Write(StoredAlert stored, StateStore store)
    {
        using var doc = JsonDocument.Parse(stored.Json);
        var a = doc.RootElement;
        var sb = new EscapedLines(); // every line of these notes quotes log text
        var host = stored.Host;
        var hostName = host ?? "(host not named in the log)";
        var time = stored.Time;
        var user = Str(a, "user", "name") ?? Str(a, "user", "id") ?? "?";
        var uid = Str(a, "user", "id");
        var auid = Num(a, "auditd", "data", "auid");
        var login = Str(a, "auditd", "data", "auid_name") ?? (auid is null or 4294967295 ? null : auid.Value.ToString(CultureInfo.InvariantCulture));
        var url = Str(a, "url", "original");
        var provider = Str(a, "cloud", "provider");
        var access = Str(a, "imds", "access") ?? "connect";
        var exe = Str(a, "process", "executable") ?? Str(a, "process", "name") ?? "?";

        sb.AppendLine(CultureInfo.InvariantCulture, $"Alert {stored.Id}: {stored.AlertType}, {stored.Severity} (risk {stored.Risk}){(stored.AcknowledgedAt is { } ack ? $", acknowledged {ack:u}{(stored.AcknowledgeNote is { } n ? $": {n}" : "")}" : "")}");
        sb.AppendLine(stored.Summary);
        if (Str(a, "imds", "explanation") is { } why && why != stored.Summary)
            sb.AppendLine(why);
        sb.AppendLine();

        sb.AppendLine("1. Who and when");
        sb.AppendLine($"   {time:yyyy-MM-dd HH:mm:ss.fff} UTC on {hostName}: user {user}{(uid is not null && uid != user ? $" (uid {uid})" : "")}"
            + (login is not null && login != "unset" ? $", logged in as {login}" : ", no login session (a service or daemon)")
            + (Str(a, "auditd", "data", "tty") is { } tty && tty != "(none)" ? $", terminal {tty}" : "")
            + (Str(a, "auditd", "data", "ses") is { } ses && ses != "4294967295" ? $", session {ses}" : "") + ".");
        sb.AppendLine();

        sb.AppendLine(CultureInfo.InvariantCulture, $"2. Logins and commands on {hostName} around the alert (24 h before, 1 h after)");
        var sessions = new SessionRepository(store).Around(host, time, TimeSpan.FromHours(24), TimeSpan.FromHours(1));
        var relevant = sessions.Where(s => login is null || s.Account == login || s.AuditUid == auid || s.Kind == "USER_LOGIN").ToList();
        if (relevant.Count == 0)
            sb.AppendLine("   No login, session or sudo records in the logs read for this host and time. Check the host's auth log and `last`.");
        foreach (var s in relevant.TakeLast(25))
        {
            sb.AppendLine($"   {s.Time:yyyy-MM-dd HH:mm:ss} {s.Kind,-10} {s.Account ?? "?"}"
                + (s.Address is { } addr and not "?" ? $" from {addr}" : "") + (s.Terminal is { } term and not "?" ? $" on {term}" : "")
                + (s.Command is { } cmd ? $" ran: {cmd}" : "") + (s.Result is { } res ? $" ({res})" : "") + $"   [{s.File}:{s.Line}]");
        }
        var failures = relevant.Count(s => s.Result == "failed");
        if (failures > 0)
            sb.AppendLine(CultureInfo.InvariantCulture, $"   {failures} failed attempt(s) in this period.");
        sb.AppendLine();

        sb.AppendLine("3. The process and its ancestors");
        sb.AppendLine(CultureInfo.InvariantCulture, $"   {exe} (pid {Num(a, "process", "pid")}): {Str(a, "process", "command_line") ?? "(command line not recorded)"}");
        if (Str(a, "process", "working_directory") is { } cwd)
            sb.AppendLine(CultureInfo.InvariantCulture, $"   working directory {cwd}");
        if (a.TryGetProperty("imds", out var imds) && imds.TryGetProperty("ancestors", out var ancestors) && ancestors.GetArrayLength() > 0)
        {
            foreach (var p in ancestors.EnumerateArray())
                sb.AppendLine(CultureInfo.InvariantCulture, $"   ← {Str(p, "executable") ?? "?"} (pid {Num(p, "pid")}): {Str(p, "command_line") ?? ""}");
        }
        else if (Num(a, "process", "parent", "pid") is { } ppid)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"   ← parent pid {ppid} (its exec is not in the logs read)");
        }
        sb.AppendLine();

        sb.AppendLine("4. What was requested");
        var role = RoleOf(url);
        sb.AppendLine(CultureInfo.InvariantCulture, $"   {access}{(url is not null ? $": {url}" : " (no URL in sight: only the connection is recorded)")}{(provider is not null ? $" [{provider}]" : "")}");
        if (role is not null)
            sb.AppendLine(CultureInfo.InvariantCulture, $"   role / identity named in the request: {role}");
        if (a.TryGetProperty("evidence", out var evidence))
        {
            foreach (var e in evidence.EnumerateArray())
                sb.AppendLine(CultureInfo.InvariantCulture, $"   {Str(e, "kind"),-7} {Str(e, "detail")}   [{Str(e, "file")}:{Num(e, "line")}]");
        }
        sb.AppendLine();

        sb.AppendLine("5. First seen");
        var baseline = new BaselineRepository(store).Snapshot();
        var programKey = Str(a, "imds", "program") ?? exe;
        foreach (var (kind, subject, label) in new[] { (BaselineEntry.User, uid ?? "?", $"user {user}"), (BaselineEntry.Program, programKey, $"program {programKey}") })
        {
            var (count, first, last) = baseline.OnHost(host, kind, subject);
            var hosts = baseline.HostsThatSaw(kind, subject);
            sb.AppendLine(count == 0
                ? $"   {label}: never seen reaching the metadata service on {hostName} ({baseline.History(host).TotalDays:0} days of baseline); {hosts} of {baseline.FleetSize} host(s) have seen it"
                : $"   {label}: {count} time(s) on {hostName}, first {first:yyyy-MM-dd}, last {last:yyyy-MM-dd}; {hosts} of {baseline.FleetSize} host(s)");
        }
        sb.AppendLine();

        sb.AppendLine(CultureInfo.InvariantCulture, $"6. Other metadata-service alerts on {hostName} within an hour");
        var near = new AlertRepository(store).Near(host, time, TimeSpan.FromHours(1)).Where(x => x.Id != stored.Id).ToList();
        if (near.Count == 0)
            sb.AppendLine("   none");
        foreach (var other in near.Take(20))
            sb.AppendLine(CultureInfo.InvariantCulture, $"   {other.Time:HH:mm:ss} {other.Id} {other.AlertType} {other.Severity}: {other.Summary}");
        sb.AppendLine();

        sb.AppendLine("7. Legitimate use? (false-positive checks)");
        sb.AppendLine("   - Is it an agent, backup or monitoring tool, or a scheduled job? Add it by executable path to agents in --config, not by name.");
        sb.AppendLine("   - Does the user have a reason to read instance metadata (deploy scripts, configuration management)? Then `imdswatch alerts ack ID --learn`.");
        sb.AppendLine("   - A development or test environment that emulates the metadata service? Exclude that host.");
        sb.AppendLine();

        sb.AppendLine("8. Response, if it is not legitimate");
        sb.AppendLine(CultureInfo.InvariantCulture, $"   - Isolate {hostName} from the network (security group with no rules, or detach it) before anything else.");
        foreach (var step in ResponseSteps(provider, role, time, hostName))
            sb.AppendLine("   - " + step);
        sb.AppendLine(CultureInfo.InvariantCulture, $"   - Review accounts and keys on {hostName}: {(login is not null && login != "unset" ? $"start with {login}'s sessions above; " : "")}remove what is not authorised.");
        sb.AppendLine("   - Restore from a known-good image if the host was changed; keep the audit logs as evidence.");
        sb.AppendLine("   - Escalate to the security operations team to look for the same activity on other hosts: imdswatch scan over the fleet's logs.");
        return sb.ToString();
    }

    private static IEnumerable<string> ResponseSteps(string? provider, string? role, DateTimeOffset time, string host)
    {
        var issued = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        switch (provider)
        {
            case "azure":
                yield return $"Managed identity tokens cannot be revoked: remove the identity's role assignments (az role assignment delete --assignee <principal of {host}'s identity>) or the identity itself (az vm identity remove), then rotate secrets it could read.";
                break;
            case "gcp":
                yield return $"Disable the service account {role ?? "<service account of " + host + ">"} (gcloud iam service-accounts disable {role ?? "SA_EMAIL"}); its access tokens live up to an hour. Rotate what it could read.";
                break;
            case "alibaba":
                yield return $"Detach the RAM role {role ?? "<role>"} from the instance and revoke its STS sessions; rotate what it could read.";
                break;
            case "oracle":
                yield return "Remove the instance from the dynamic group that grants it policies; instance principal certificates rotate, but policies grant the access.";
                break;
            default:
                var r = role ?? "<role of " + host + ">";
                yield return $"Revoke every session of role {r} issued up to now: aws iam put-role-policy --role-name {r} --policy-name AWSRevokeOlderSessions --policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{{\"DateLessThan\":{{\"aws:TokenIssueTime\":\"{DateTime.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'}\"}}}}}}]}}'";
                yield return $"Require IMDSv2 with hop limit 1: aws ec2 modify-instance-metadata-options --instance-id <instance id of {host}> --http-tokens required --http-put-response-hop-limit 1";
                yield return $"Look in CloudTrail for the role's instance session ({r}) used after {issued} from an address that is not {host}'s.";
                break;
        }
    }

    internal static string? RoleOf(string? url)
    {
        if (url is null)
            return null;
        var m = RolePattern().Match(url);
        return m.Success ? Uri.UnescapeDataString(m.Groups[1].Value) : null;
    }

    [GeneratedRegex(@"(?:security-credentials|service-accounts)/([^/?#]+)")]
    private static partial Regex RolePattern();

    /// <summary>
    /// The notes line by line, each line's text escaped as a whole (<see cref="Output.TerminalText"/>): a value
    /// from a log cannot add a line, move the cursor or colour the terminal, whatever it holds.
    /// </summary>
    private sealed class EscapedLines
    {
        private readonly StringBuilder _text = new();

        public void AppendLine() => _text.AppendLine();

        public void AppendLine(string? line) => _text.AppendLine(Output.TerminalText.Escape(line));

        public void AppendLine(IFormatProvider provider, [System.Runtime.CompilerServices.InterpolatedStringHandlerArgument(nameof(provider))] ref System.Runtime.CompilerServices.DefaultInterpolatedStringHandler line) =>
            AppendLine(line.ToStringAndClear());

        public override string ToString() => _text.ToString();
    }
}
