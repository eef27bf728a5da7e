using ImdsWatch.Alerts;
using System.Text.Json.Nodes;
using System.CommandLine;
using System.Text.Json;
using ImdsWatch.Events;
using ImdsWatch.Scanning;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Cli.Commands;

/// <summary><c>imdswatch events PATH</c>: the normalized exec and connect events, to see what the parser made of a log.</summary>
public static class EventsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var paths = new Argument<string[]>("path") { Arity = ArgumentArity.OneOrMore, Description = "Audit logs (as for scan)" };
        var command = new Command("events", "Print the exec and connect events decoded from audit logs, one JSON object per line") { paths };
        command.SetAction(parse =>
        {
            var sources = InputResolver.Resolve(parse.GetValue(paths) ?? [], out var errors);
            foreach (var e in errors)
                stderr.WriteLine($"imdswatch: {e}");
            if (errors.Count > 0)
                return ExitCodes.Usage;
            var issues = new List<ParseIssue>();
            using (var output = new BatchOutput(stdout))
            {
                foreach (var source in sources)
                {
                    foreach (var e in LogScanner.ReadEvents(source, issues: issues))
                        output.Writer.WriteLine(Describe(e).ToJsonString());
                }
            }
            foreach (var issue in issues)
                stderr.WriteLine($"imdswatch: {issue}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static JsonObject Describe(HostEvent e)
    {
        var d = new JsonObject
        {
            ["time"] = e.Timestamp.UtcDateTime.ToString("O"),
            ["kind"] = e is ProcessExec ? "exec" : "connect",
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
            ["where"] = $"{e.Evidence.File}:{e.Evidence.Line}",
        };
        if (e is NetworkConnect c)
        {
            d["destination"] = c.Destination.ToString();
            d["port"] = c.Port;
            d["outcome"] = c.Outcome.ToString();
            d["exit"] = c.Exit;
        }
        return d;
    }
}
