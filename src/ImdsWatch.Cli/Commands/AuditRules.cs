namespace ImdsWatch.Cli.Commands;

/// <summary>The audit rules imdswatch needs, as text with the reasons, and as auditctl argument lists.</summary>
public static class AuditRules
{
    /// <summary>Rules as auditctl arguments (without the leading "auditctl").</summary>
    public static IReadOnlyList<string[]> Arguments(string key) =>
    [
        ["-a", "always,exit", "-F", "arch=b64", "-S", "execve,execveat", "-k", key],
        ["-a", "always,exit", "-F", "arch=b32", "-S", "execve,execveat", "-k", key],
        ["-a", "always,exit", "-F", "arch=b64", "-S", "connect,sendto,sendmsg", "-k", key],
        ["-a", "always,exit", "-F", "arch=b32", "-S", "connect,sendto,sendmsg", "-k", key],
    ];

    public static string Text(string key) => $"""
        ## imdswatch: audit rules for cloud instance metadata access (MITRE ATT&CK T1552.005)
        ## Install: imdswatch rules auditd > /etc/audit/rules.d/50-imdswatch.rules && augenrules --load
        ##
        ## Every exec, both ABIs: the command line (EXECVE, PROCTITLE) of whatever reaches the service.
        ## 32-bit programs use their own syscall numbers and are missed by arch=b64 rules alone.
        -a always,exit -F arch=b64 -S execve,execveat -k {key}
        -a always,exit -F arch=b32 -S execve,execveat -k {key}
        ##
        ## Every connect, both ABIs: the SOCKADDR record holds the destination whatever the command line says
        ## (scripts, curl -K files, environment variables, /dev/tcp, SSRF through a web server).
        ## No success=1: a non-blocking connect (curl, most SDKs) returns EINPROGRESS (exit=-115) and would be
        ## missed. No filter on the address length (a2): the kernel accepts an AF_INET address passed with any
        ## length >= 16, so "-F a2!=110" (to drop AF_UNIX connects) is a filter an attacker can step around.
        ## The kernel cannot filter on the address itself, so imdswatch does that.
        -a always,exit -F arch=b64 -S connect -k {key}
        -a always,exit -F arch=b32 -S connect -k {key}
        ##
        ## TCP Fast Open (curl --tcp-fastopen) and UDP hand the address to sendto/sendmsg instead of connect.
        ## Heavier (every datagram): enable where the volume allows.
        # -a always,exit -F arch=b64 -S sendto,sendmsg -k {key}
        # -a always,exit -F arch=b32 -S sendto,sendmsg -k {key}
        ##
        ## auditd.conf: log_format = ENRICHED adds user names (UID="deploy") and syscall names;
        ## name_format = hostname adds node= so logs from many hosts can be scanned together.

        """;
}
