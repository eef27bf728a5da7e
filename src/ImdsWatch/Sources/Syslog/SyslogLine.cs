namespace ImdsWatch.Sources.Syslog;

/// <summary>A syslog line's header (RFC 3164, RFC 5424 or ISO timestamp) and its message.</summary>
public sealed record SyslogLine(DateTimeOffset Timestamp, string Host, string Program, int? Pid, string Message);
