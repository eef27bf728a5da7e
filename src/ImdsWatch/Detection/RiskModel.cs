using ImdsWatch.Alerts;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// Risk grows with what was reached (credentials &gt; token/user-data &gt; metadata &gt; bare connect) and with who
/// reached it. Every point added is given a reason, so an analyst sees why an alert scored as it did.
/// </summary>
public static class RiskModel
{
    public static (int Score, Severity Severity, IReadOnlyList<string> Reasons) Score(RiskFactors f)
    {
        var reasons = new List<string>();
        var score = 0;

        void Add(int points, string why)
        {
            score += points;
            reasons.Add($"{(points >= 0 ? "+" : "")}{points} {why}");
        }

        Add(f.Access switch
        {
            AccessClass.Credentials => 70,
            AccessClass.Token => 50,
            AccessClass.UserData => 50,
            AccessClass.Metadata => 35,
            _ => 21,
        }, $"reached {f.Access.ToWire()}");

        switch (f.Role)
        {
            case ProgramRole.WebServer:
                Add(25, "made by a web-server process (server-side request forgery)");
                break;
            case ProgramRole.FetchTool:
                Add(10, "interactive fetch tool");
                break;
            case ProgramRole.InterpreterOneLiner:
                Add(10, "interpreter one-liner");
                break;
            case ProgramRole.ShellOneLiner or ProgramRole.Shell:
                Add(15, "shell");
                break;
        }
        if (f.UsesShellSocket)
            Add(10, "shell /dev/tcp socket");
        if (f.WritableLocation is not null)
            Add(20, f.WritableLocation);
        if (f.Obfuscated)
            Add(15, "address spelled to evade matching");
        if (f.Terminal)
            Add(5, "from an interactive terminal");
        if (f.PathOnly)
            Add(-10, "metadata path without a recognised host");
        if (f.Failed)
            Add(-10, "the connection failed");

        score = Math.Clamp(score, 1, 100);
        return (score, SeverityOf(score), reasons);
    }

    public static Severity SeverityOf(int score) => score switch
    {
        >= 85 => Severity.Critical,
        >= 65 => Severity.High,
        >= 40 => Severity.Medium,
        _ => Severity.Low,
    };
}

public sealed record RiskFactors(
    AccessClass Access,
    ProgramRole Role,
    bool Terminal,
    bool Obfuscated,
    string? WritableLocation,
    bool UsesShellSocket,
    bool PathOnly,
    bool Failed);
