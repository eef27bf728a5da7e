using System.Text;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Support;

/// <summary>
/// Synthetic but realistic normal use of host web-1 over days: an SDK-style worker under a service user, the SSM
/// agent, root's cron reading instance-id, and an admin who once checked the role's credentials by hand.
/// </summary>
public static class Week
{
    public const double Start = 1_700_000_000; // 2023-11-14
    public const string Creds = "http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role";

    public static string NormalUse(int days, double start = Start, ulong serial = 1000, string node = "web-1", bool adminChecksCredentials = true)
    {
        var sb = new StringBuilder();
        var pid = 2000;
        for (var d = 0; d < days; d++)
        {
            for (var h = 0; h < 24; h += 6)
            {
                var t = start + (d * 86400) + (h * 3600);
                sb.Append(Exec(serial++, pid, "/usr/bin/python3.11", ["python3", "/opt/app/worker.py"], uid: 998, tty: "(none)", time: t));
                sb.Append(Connect(serial++, pid++, "/usr/bin/python3.11", "169.254.169.254", uid: 998, time: t + 0.01));
                sb.Append(Exec(serial++, pid, "/usr/bin/amazon-ssm-agent", ["/usr/bin/amazon-ssm-agent"], tty: "(none)", time: t + 1));
                sb.Append(Connect(serial++, pid++, "/usr/bin/amazon-ssm-agent", "169.254.169.254", time: t + 1.01));
            }
            var cron = start + (d * 86400) + 3000;
            sb.Append(Exec(serial++, pid++, "/usr/bin/curl", ["curl", "-s", "http://169.254.169.254/latest/meta-data/instance-id"], tty: "(none)", time: cron));
        }
        if (adminChecksCredentials)
            sb.Append(Exec(serial++, pid++, "/usr/bin/curl", ["curl", "-s", Creds], uid: 0, tty: "pts0", time: start + 3600));
        return Nodes(sb.ToString(), node);
    }

    /// <summary>Prefixes every record with node=NAME, as auditd's name_format=hostname does.</summary>
    public static string Nodes(string text, string node) =>
        string.Join('\n', text.Split('\n').Select(l => l.StartsWith("type=", StringComparison.Ordinal) ? $"node={node} {l}" : l));
}
