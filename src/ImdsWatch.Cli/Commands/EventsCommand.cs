using System.CommandLine;
using System.Text.Json.Nodes;
using ImdsWatch.Alerts;
using ImdsWatch.Config;
using ImdsWatch.Events;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// <c>imdswatch events PATH</c>: the normalized events the sources yield — what the parser made of a log — read
/// by the same sources as <c>scan</c>, whatever the format.
/// </summary>
public static class EventsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var paths = new Argument<string[]>("path") { Arity = ArgumentArity.OneOrMore, Description = "Logs of any format scan reads (as for scan)" };
        var config = new Option<string?>("--config", "-c") { Description = "YAML configuration (host name)" };
        var host = new Option<string?>("--host") { Description = "Host name for records without node=" };
        var command = new Command("events", "Print the events decoded from logs (exec, connect, session, http, api-call, message), one JSON object per line")
        {
            paths, config, host,
        };
        command.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            var cfg = EffectiveConfig.Build(parse.GetValue(config), new ConfigFlags { Host = parse.GetValue(host), Prefilter = false });
            var sources = InputResolver.Resolve(parse.GetValue(paths) ?? [], out var errors);
            foreach (var e in errors)
                stderr.WriteLine($"imdswatch: {e}");
            if (errors.Count > 0)
                return ExitCodes.Usage;
            Pipeline.ScanResult result;
            using (var output = new BatchOutput(stdout))
                result = cfg.Pipeline(onEvent: e => output.Writer.WriteLine(Describe(e).ToJsonString())).Run(sources, NullSink.Instance);
            foreach (var issue in result.Issues)
                stderr.WriteLine($"imdswatch: {issue}");
            if (result.IssueCount > result.Issues.Count)
                stderr.WriteLine($"imdswatch: … and {result.IssueCount - result.Issues.Count} more unreadable line(s)");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static JsonObject Describe(IObservedEvent e) => e switch
    {
        HostEvent h => Describe(h),
        HttpRequest r => new JsonObject
        {
            ["time"] = r.Timestamp.UtcDateTime.ToString("O"),
            ["kind"] = "http",
            ["client"] = r.ClientIp,
            ["method"] = r.Method,
            ["target"] = r.Target,
            ["host_header"] = r.HostHeader,
            ["status"] = r.Status,
            ["bytes"] = r.Bytes,
            ["user_agent"] = r.UserAgent,
            ["log"] = r.LogKind,
            ["where"] = Where(r.Evidence),
        },
        ApiCall c => new JsonObject
        {
            ["time"] = c.Timestamp.UtcDateTime.ToString("O"),
            ["kind"] = "api-call",
            ["event_id"] = c.EventId,
            ["event_source"] = c.EventSource,
            ["event_name"] = c.EventName,
            ["source_ip"] = c.SourceIp,
            ["user_agent"] = c.UserAgent,
            ["identity_type"] = c.IdentityType,
            ["arn"] = c.Arn,
            ["access_key_id"] = c.AccessKeyId,
            ["instance_id"] = c.InstanceId,
            ["ec2_role_delivery"] = c.Ec2RoleDelivery,
            ["where"] = Where(c.Evidence),
        },
        LogMessage m => new JsonObject
        {
            ["time"] = m.Timestamp.UtcDateTime.ToString("O"),
            ["kind"] = "message",
            ["host"] = m.Host,
            ["program"] = m.Program,
            ["pid"] = m.Pid,
            ["message"] = m.Message,
            ["where"] = Where(m.Evidence),
        },
        _ => new JsonObject { ["time"] = e.Timestamp.UtcDateTime.ToString("O"), ["kind"] = e.GetType().Name, ["where"] = Where(e.Evidence) },
    };

    private static JsonObject Describe(HostEvent e)
    {
        var d = new JsonObject
        {
            ["time"] = e.Timestamp.UtcDateTime.ToString("O"),
            ["kind"] = e switch { ProcessExec => "exec", NetworkConnect => "connect", _ => "session" },
            ["host"] = e.Host,
            ["serial"] = e.Sequence,
            ["syscall"] = e.Syscall,
            ["pid"] = e.Process.Pid,
            ["ppid"] = e.Process.ParentPid,
            ["uid"] = e.Process.User.Uid,
            ["user"] = e.Process.User.Name,
            ["auid"] = e.Process.User.AuditUid,
            ["exe"] = e.Process.Executable,
            ["comm"] = e.Process.Name,
            ["args"] = JsonNodes.Array(e.Process.Args),
            ["cwd"] = e.Process.WorkingDirectory,
            ["where"] = Where(e.Evidence),
        };
        switch (e)
        {
            case NetworkConnect c:
                d["destination"] = c.Destination.ToString();
                d["port"] = c.Port;
                d["outcome"] = c.Outcome.ToString();
                d["exit"] = c.Exit;
                break;
            case SessionEvent s:
                d["session_kind"] = s.Kind;
                d["account"] = s.Account;
                d["address"] = s.Address;
                d["terminal"] = s.Terminal;
                d["result"] = s.Result;
                d["command"] = s.Command;
                break;
        }
        return d;
    }

    private static string Where(EvidenceRef e) => $"{e.File}:{e.Line}";
}
