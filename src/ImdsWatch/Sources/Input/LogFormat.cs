namespace ImdsWatch.Sources.Input;

public enum LogFormat
{
    Unknown,
    Auditd,
    Syslog,
    CloudTrail,
    Ecs,
    WebAccess,
}
