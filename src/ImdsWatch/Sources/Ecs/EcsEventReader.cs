using System.Globalization;
using System.Net;
using System.Text.Json;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using static ImdsWatch.Sources.JsonFields;

namespace ImdsWatch.Sources.Ecs;

/// <summary>
/// Elastic Common Schema events, one JSON object a line (Elastic Defend, Auditbeat, Auditd Manager, Filebeat
/// exports): process starts (process.args / process.command_line) and network events (destination.ip) become the
/// same exec and connect events the audit reader makes, so every detection layer and baseline applies.
/// </summary>
public static class EcsEventReader
{
    public static bool LooksLikeEcs(string line) =>
        line.TrimStart().StartsWith('{') && line.Contains("\"@timestamp\"", StringComparison.Ordinal)
        && (line.Contains("\"process\"", StringComparison.Ordinal) || line.Contains("\"destination\"", StringComparison.Ordinal) || line.Contains("\"event\"", StringComparison.Ordinal));

    /// <summary>One ECS line as an event, or null (with a <see cref="ParseIssue"/> when it is not one); never an exception.</summary>
    public static HostEvent? Parse(string line, string file, long lineNumber, List<ParseIssue> issues)
    {
        try
        {
            try
            {
                return ParseLine(line, file, lineNumber, issues);
            }
            catch (InvalidOperationException) when (JsonSurrogates.Repair(line) is var repaired && repaired != line)
            {
                return ParseLine(repaired, file, lineNumber, issues); // a string with half a UTF-16 pair
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            issues.Add(new ParseIssue(file, lineNumber, $"unreadable ECS event ({e.GetType().Name}: {e.Message})"));
            return null;
        }
    }

    private static HostEvent? ParseLine(string line, string file, long lineNumber, List<ParseIssue> issues)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            issues.Add(new ParseIssue(file, lineNumber, $"not valid JSON: {e.Message}"));
            return null;
        }
        using (doc)
        {
            var r = doc.RootElement;
            if (Str(r, "@timestamp") is not { } time || !DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
            {
                issues.Add(new ParseIssue(file, lineNumber, "ECS event without a valid @timestamp"));
                return null;
            }
            // Auditbeat 6.x and go-libaudit keep the ECS categorisation under "ecs.event".
            var categories = Strings(r, "event", "category") is { Count: > 0 } c ? c : Strings(r, "ecs", "event", "category");
            var types = Strings(r, "event", "type") is { Count: > 0 } t ? t : Strings(r, "ecs", "event", "type");
            var action = Str(r, "event", "action") ?? Str(r, "summary", "action") ?? "";
            var process = Process(r);
            var host = Str(r, "host", "name") ?? Str(r, "host", "hostname");
            var evidence = new EvidenceRef(file, lineNumber, Str(r, "event", "id") is { } id ? $"ecs:{id}" : $"ecs:{lineNumber}");
            var sequence = (ulong)Math.Max(lineNumber, 0);

            if (Str(r, "destination", "ip") is { } dest && IPAddress.TryParse(dest, out var destination))
            {
                return new NetworkConnect
                {
                    Timestamp = timestamp,
                    Host = host,
                    Sequence = sequence,
                    Process = process,
                    Evidence = evidence,
                    Source = EventOrigin.Ecs,
                    Syscall = Str(r, "auditd", "data", "syscall") ?? Str(r, "data", "syscall") ?? action,
                    Destination = destination,
                    Port = (int?)Num(r, "destination", "port"),
                    Outcome = (Str(r, "event", "outcome") ?? Str(r, "result")) is "failure" or "fail"
                        ? Str(r, "data", "exit") == "EINPROGRESS" ? ConnectOutcome.InProgress : ConnectOutcome.Failure
                        : ConnectOutcome.Success,
                };
            }
            var isStart = categories.Contains("process") && (types.Contains("start") || action is "exec" or "executed" or "process_started" or "execution");
            if (isStart && process.Args.Count > 0)
            {
                return new ProcessExec
                {
                    Timestamp = timestamp,
                    Host = host,
                    Sequence = sequence,
                    Process = process,
                    Evidence = evidence,
                    Source = EventOrigin.Ecs,
                    Syscall = "execve",
                    Success = Str(r, "event", "outcome") != "failure",
                };
            }
            return null;
        }
    }

    private static ProcessSnapshot Process(JsonElement r)
    {
        var args = Strings(r, "process", "args");
        if (args.Count == 0 && Str(r, "process", "command_line") is { } cmd)
            args = [.. ShellWords.SplitCommands(cmd).FirstOrDefault() ?? []];
        var uid = (Str(r, "user", "id") ?? Str(r, "user", "ids", "uid")) is { } u && long.TryParse(u, out var parsedUid) ? parsedUid : (long?)null;
        return new ProcessSnapshot
        {
            Pid = (int)(Num(r, "process", "pid") ?? -1),
            ParentPid = (int?)(Num(r, "process", "parent", "pid") ?? Num(r, "process", "ppid")),
            Executable = Str(r, "process", "executable") ?? Str(r, "process", "exe"),
            Name = Str(r, "process", "name"),
            Args = args,
            WorkingDirectory = Str(r, "process", "working_directory"),
            Tty = Str(r, "process", "tty", "char_device", "name") ?? (r.TryGetProperty("process", out var p) && p.TryGetProperty("tty", out _) ? "tty" : null),
            User = new UserIdentity(uid, Str(r, "user", "name"), Str(r, "user", "audit", "id") is { } a && long.TryParse(a, out var auid) ? auid : null,
                Str(r, "user", "audit", "name"), null, Str(r, "user", "effective", "name")),
        };
    }
}
