namespace ImdsWatch.Alerts;

public enum Severity
{
    Low,
    Medium,
    High,
    Critical,
}
