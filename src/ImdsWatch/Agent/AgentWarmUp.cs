using System.Text;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Agent;

/// <summary>
/// A JIT build compiles each method on its first call: the first real alert would pay for the parser, the detector,
/// the risk model and the JSON writer (hundreds of milliseconds on a busy host). At start the agent runs one made-up
/// curl to the metadata address through a throwaway pipeline whose alerts go nowhere, so that the first real one
/// is as fast as the rest. (A native build has nothing to compile; there this costs a few milliseconds.)
/// </summary>
public static class AgentWarmUp
{
    private const string Records = """
        node=imdswatch-warm-up type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="curl" exe="/usr/bin/curl" key=(null)
        node=imdswatch-warm-up type=EXECVE msg=audit(1.000:1): argc=2 a0="curl" a1="http://169.254.169.254/latest/meta-data/iam/security-credentials/"
        node=imdswatch-warm-up type=CWD msg=audit(1.000:1): cwd="/"
        node=imdswatch-warm-up type=SYSCALL msg=audit(1.010:2): arch=c000003e syscall=42 success=no exit=-115 a0=5 a1=1 a2=10 a3=0 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="curl" exe="/usr/bin/curl" key=(null)
        node=imdswatch-warm-up type=SOCKADDR msg=audit(1.010:2): saddr=02000050A9FEA9FE0000000000000000
        """;

    /// <summary>Runs the made-up records through <paramref name="pipeline"/> (started on a <see cref="CollectingSink"/>); returns the alerts' JSON length.</summary>
    public static int Run(Func<IAlertSink, LivePipeline> pipeline)
    {
        var sink = new CollectingSink();
        var live = pipeline(sink);
        var builder = new AuditEventBuilder(live.CreateSource("<warm-up>"));
        var n = 0;
        foreach (var line in Records.Split('\n'))
            builder.Add(Encoding.UTF8.GetBytes(line), ++n);
        builder.Flush();
        live.Advance(live.EventTime + TimeSpan.FromSeconds(1));
        live.Complete();
        return sink.Alerts.Sum(a => NdjsonAlertWriter.ToJson(a).Length);
    }
}
