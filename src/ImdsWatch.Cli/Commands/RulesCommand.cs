using System.CommandLine;

namespace ImdsWatch.Cli.Commands;

/// <summary><c>imdswatch rules auditd</c>: the audit rules production hosts need, with the reasoning.</summary>
public static class RulesCommand
{
    public const string Key = "imds";

    public static Command Create(TextWriter stdout)
    {
        var auditd = new Command("auditd", "Print the recommended audit rules (for /etc/audit/rules.d/imdswatch.rules)");
        auditd.SetAction(_ =>
        {
            stdout.Write(AuditRules.Text(Key));
            return ExitCodes.Ok;
        });
        return new Command("rules", "Print rules for the data sources imdswatch reads") { auditd };
    }
}
