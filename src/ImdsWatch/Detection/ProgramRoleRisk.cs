namespace ImdsWatch.Detection;

/// <summary>The role's point in the risk model (risk.yaml), one place for the detector and the exports.</summary>
public static class ProgramRoleRisk
{
    /// <summary>The risk.yaml key of a role that weighs on a host access, or null for one that adds nothing.</summary>
    public static string? RiskKey(this ProgramRole role) => role switch
    {
        ProgramRole.WebServer => "host.role.web-server",
        ProgramRole.FetchTool => "host.role.fetch-tool",
        ProgramRole.InterpreterOneLiner => "host.role.interpreter-one-liner",
        ProgramRole.ShellOneLiner or ProgramRole.Shell => "host.role.shell",
        _ => null,
    };
}
