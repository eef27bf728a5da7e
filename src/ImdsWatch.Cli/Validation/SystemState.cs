namespace ImdsWatch.Cli.Validation;

/// <summary>What validate must leave as it found: audit rules, network namespaces, and the processes it started.</summary>
internal sealed record SystemState(string AuditRules, string Namespaces)
{
    public static SystemState Capture() =>
        new(Shell.Run("auditctl", ["-l"]).Stdout, Shell.Run("ip", ["netns", "list"]).Stdout);

    public List<string> Differences(SystemState after, IEnumerable<int> startedPids)
    {
        var problems = new List<string>();
        if (after.AuditRules != AuditRules)
            problems.Add($"audit rules differ: before\n{AuditRules}after\n{after.AuditRules}");
        if (after.Namespaces != Namespaces)
            problems.Add($"network namespaces differ: before [{Namespaces.Trim()}] after [{after.Namespaces.Trim()}]");
        foreach (var pid in startedPids)
        {
            if (Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal))
                problems.Add($"process {pid} started by validate is still running");
        }
        return problems;
    }
}
