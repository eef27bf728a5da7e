namespace ImdsWatch.Events;

/// <summary>Which kind of record a host event was read from.</summary>
public enum EventOrigin
{
    /// <summary>Linux audit records (a file, syslog-relayed, or the auditd plugin stream).</summary>
    Auditd,

    /// <summary>An Elastic Common Schema event (Elastic Defend, Auditbeat, Filebeat).</summary>
    Ecs,

    /// <summary>Sysmon for Linux, relayed by syslog.</summary>
    Sysmon,

    /// <summary>A netfilter/nftables LOG line relayed by syslog.</summary>
    SyslogNetfilter,
}
