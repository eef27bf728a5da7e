using System.Globalization;
using System.Text;
using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Events;
using ImdsWatch.Indicators;
using ImdsWatch.Store;

namespace ImdsWatch.Reports;

/// <summary>
/// The seed's investigation guide and response steps, written out for one alert with its facts: who and when,
/// the user's logins and commands on that host from the same logs, the process and its ancestors, what was
/// requested, when the user and program were first seen, related alerts, and concrete response commands.
/// </summary>
public static class Investigation
{
    public static string Write(StoredAlert stored, StateStore store)
    {
        // A record stored by an imdswatch whose format this one cannot read still has its columns.
        var a = stored.Alert ?? new Alert
        {
            Id = stored.Id,
            Timestamp = stored.Time,
            RuleId = "",
            RuleName = "",
            AlertType = Enum.TryParse<AlertType>(stored.AlertType, out var type) ? type : AlertType.MetadataAPINetwork,
            Access = AccessClass.Connect,
            Severity = Enum.TryParse<Severity>(stored.Severity, ignoreCase: true, out var severity) ? severity : Severity.Low,
            RiskScore = stored.Risk,
            Host = stored.Host,
            Process = ProcessSnapshot.None,
            Summary = stored.Summary,
        };
        var p = a.Process;
        var sb = new EscapedLines(); // every line of these notes quotes log text
        var host = stored.Host;
        var hostName = host ?? "(host not named in the log)";
        var time = stored.Time;
        var uid = p.User.Uid?.ToString(CultureInfo.InvariantCulture);
        var user = p.User.Name ?? uid ?? "?";
        var auid = p.User.AuditUid;
        var login = p.User.AuditName is { } name and not "unset" ? name
            : auid is null or UserIdentity.UnsetAuditUid ? null : auid.Value.ToString(CultureInfo.InvariantCulture);
        var url = a.Url;
        var provider = a.CloudProvider;
        var access = a.Access.ToWire();
        var exe = p.Executable ?? p.Name ?? "?";

        sb.AppendLine(CultureInfo.InvariantCulture, $"Alert {stored.Id}: {stored.AlertType}, {stored.Severity} (risk {stored.Risk}){(stored.AcknowledgedAt is { } ack ? $", acknowledged {ack:u}{(stored.AcknowledgeNote is { } n ? $": {n}" : "")}" : "")}");
        sb.AppendLine(stored.Summary);
        if (a.Explanation is { } why && why != stored.Summary)
            sb.AppendLine(why);
        if (stored.Alert is null)
            sb.AppendLine("(stored by another version of imdswatch: only its summary can be shown)");
        sb.AppendLine();

        sb.AppendLine("1. Who and when");
        sb.AppendLine($"   {time:yyyy-MM-dd HH:mm:ss.fff} UTC on {hostName}: user {user}{(uid is not null && uid != user ? $" (uid {uid})" : "")}"
            + (login is not null ? $", logged in as {login}" : ", no login session (a service or daemon)")
            + (p.HasTerminal ? $", terminal {p.Tty}" : "")
            + (p.Session is { } ses && ses != "4294967295" ? $", session {ses}" : "") + ".");
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
        sb.AppendLine(CultureInfo.InvariantCulture, $"   {exe} (pid {p.Pid}): {(p.Args.Count > 0 ? p.CommandLine : "(command line not recorded)")}");
        if (p.WorkingDirectory is { } cwd)
            sb.AppendLine(CultureInfo.InvariantCulture, $"   working directory {cwd}");
        if (a.Ancestors.Count > 0)
        {
            foreach (var ancestor in a.Ancestors)
                sb.AppendLine(CultureInfo.InvariantCulture, $"   ← {ancestor.Executable ?? "?"} (pid {ancestor.Pid}): {(ancestor.Args.Count > 0 ? ancestor.CommandLine : "")}");
        }
        else if (p.ParentPid is { } ppid)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"   ← parent pid {ppid} (its exec is not in the logs read)");
        }
        sb.AppendLine();

        sb.AppendLine("4. What was requested");
        var role = a.CredentialRole ?? a.Cloud?.RoleName;
        sb.AppendLine(CultureInfo.InvariantCulture, $"   {access}{(url is not null ? $": {url}" : " (no URL in sight: only the connection is recorded)")}{(provider is not null ? $" [{provider}]" : "")}");
        if (role is not null)
            sb.AppendLine(CultureInfo.InvariantCulture, $"   role / identity named in the request: {role}");
        foreach (var e in a.Evidence)
            sb.AppendLine(CultureInfo.InvariantCulture, $"   {e.Kind,-7} {e.Detail}   [{e.File}:{e.Line}]");
        sb.AppendLine();

        sb.AppendLine("5. First seen");
        var baseline = new BaselineRepository(store).Snapshot();
        var programKey = a.ProgramKey ?? exe;
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

        var acks = new AlertRepository(store).History(stored.Id);
        if (acks.Count > 0)
        {
            sb.AppendLine("Acknowledgements");
            foreach (var entry in acks)
                sb.AppendLine(CultureInfo.InvariantCulture, $"   {entry.At:yyyy-MM-dd HH:mm:ss} by {entry.Who ?? "?"}{(entry.Note is { } reason ? $": {reason}" : "")}");
            sb.AppendLine();
        }

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

    /// <summary>
    /// The notes line by line, each line's text escaped as a whole (<see cref="Alerts.Output.TerminalText"/>): a value
    /// from a log cannot add a line, move the cursor or colour the terminal, whatever it holds.
    /// </summary>
    private sealed class EscapedLines
    {
        private readonly StringBuilder _text = new();

        public void AppendLine() => _text.AppendLine();

        public void AppendLine(string? line) => _text.AppendLine(Alerts.Output.TerminalText.Escape(line));

        public void AppendLine(IFormatProvider provider, [System.Runtime.CompilerServices.InterpolatedStringHandlerArgument(nameof(provider))] ref System.Runtime.CompilerServices.DefaultInterpolatedStringHandler line) =>
            AppendLine(line.ToStringAndClear());

        public override string ToString() => _text.ToString();
    }
}
