using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using ImdsWatch.Cli;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Export;

/// <summary>How one audit event fared: the engine's verdict (an alert cites it) against the exported Sigma rules'.</summary>
internal sealed record EventVerdict(string File, ulong Serial, bool Engine, bool Sigma, string Summary, IReadOnlyList<string> SigmaRules, string? Executable);

/// <summary>
/// The differential run: the audit records imdswatch parses from a log (its own parser), each evaluated with the
/// emitted auditd Sigma rules, grouped into events by serial; and the engine's alerts for the same log (scan,
/// no baseline), whose evidence names the events they rest on. An event is compared when it has an EXECVE or a
/// SOCKADDR record: the records the Sigma auditd rules look at.
/// </summary>
internal static class SigmaDifferential
{
    public static IReadOnlyList<SigmaEvaluator> AuditdRules { get; } =
        [.. ExportFixtures.SigmaDetectionRules.Select(f => SigmaEvaluator.Parse(Path.GetFileName(f.Path), f.Content)).Where(r => r.Product == "linux" && r.Service == "auditd")];

    public static List<EventVerdict> Compare(string path)
    {
        var cited = EngineCitedSerials(path);
        var parser = new AuditRecordParser();
        var events = new Dictionary<ulong, List<(AuditRecord Record, SigmaEvent Event)>>();
        long lineNumber = 0;
        foreach (var line in Lines(path))
        {
            lineNumber++;
            if (!parser.TryParse(Encoding.UTF8.GetBytes(line), 0, lineNumber, out var record, out _) || record is null)
                continue;
            if (!events.TryGetValue(record.Serial, out var list))
                events[record.Serial] = list = [];
            list.Add((record, ToSigmaEvent(record, line)));
        }
        var verdicts = new List<EventVerdict>();
        foreach (var (serial, records) in events.OrderBy(e => e.Key))
        {
            if (!records.Any(r => r.Record.TypeName is "EXECVE" or "SOCKADDR"))
                continue;
            var matched = AuditdRules.Where(rule => records.Any(r => rule.Matches(r.Event))).Select(r => r.FileName).ToList();
            var exe = records.Where(r => r.Record.TypeName == "SYSCALL").Select(r => r.Record.ReadFields().GetUntrusted("exe")).FirstOrDefault();
            verdicts.Add(new EventVerdict(Path.GetFileName(path), serial, cited.Contains(serial), matched.Count > 0, Summarize(records), matched, exe));
        }
        return verdicts;
    }

    public static IReadOnlyList<SigmaEvaluator> EndpointRules { get; } =
        [.. ExportFixtures.SigmaDetectionRules.Select(f => SigmaEvaluator.Parse(Path.GetFileName(f.Path), f.Content))
            .Where(r => r.Product == "linux" && r.Category is "process_creation" or "network_connection")];

    /// <summary>
    /// The same comparison for the process_creation and network_connection rules, on the exec and connect events
    /// imdswatch builds from the log (imdswatch events), as an EDR or Sysmon for Linux would report them.
    /// </summary>
    public static List<EventVerdict> CompareEvents(string path)
    {
        var cited = EngineCitedSerials(path);
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["events", path], stdout, new StringWriter()));
        var verdicts = new List<EventVerdict>();
        foreach (var line in stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var e = JsonNode.Parse(line)!;
            var exec = (string)e["kind"]! == "exec";
            var exe = (string?)e["exe"];
            var fields = new Dictionary<string, List<string>>();
            if (exe is not null)
                fields["Image"] = [exe];
            if ((string?)e["user"] is { } user)
                fields["User"] = [user];
            var commandLine = string.Join(' ', e["args"]!.AsArray().Select(a => (string?)a));
            if (exec)
                fields["CommandLine"] = [commandLine];
            else
            {
                fields["DestinationIp"] = [(string)e["destination"]!];
                fields["DestinationPort"] = [e["port"]!.ToString()];
            }
            var category = exec ? "process_creation" : "network_connection";
            var sigmaEvent = new SigmaEvent(fields, line);
            var matched = EndpointRules.Where(r => r.Category == category && r.Matches(sigmaEvent)).Select(r => r.FileName).ToList();
            var serial = (ulong)e["serial"]!;
            var summary = exec ? $"exec {exe}: {commandLine}" : $"connect {exe} saddr={(string)e["destination"]!}";
            verdicts.Add(new EventVerdict(Path.GetFileName(path) + (exec ? " (exec)" : " (connect)"), serial, cited.Contains(serial), matched.Count > 0, summary, matched, exe));
        }
        return verdicts;
    }

    /// <summary>The record as a SIEM's field extraction holds it: type, every field (quotes removed, hex left as hex), and the raw line.</summary>
    private static SigmaEvent ToSigmaEvent(AuditRecord record, string line)
    {
        var fields = new Dictionary<string, List<string>> { ["type"] = [record.TypeName] };
        foreach (var f in record.ReadFields().All)
        {
            if (!fields.TryGetValue(f.Key, out var values))
                fields[f.Key] = values = [];
            values.Add(f.Value);
        }
        return new SigmaEvent(fields, line);
    }

    private static string Summarize(List<(AuditRecord Record, SigmaEvent Event)> records)
    {
        var syscall = records.FirstOrDefault(r => r.Record.TypeName == "SYSCALL").Record?.ReadFields();
        var exe = syscall?.GetUntrusted("exe");
        var call = syscall?.GetInterpreted("SYSCALL") ?? syscall?.GetString("syscall");
        if (records.Any(r => r.Record.TypeName == "EXECVE"))
        {
            var execve = records.First(r => r.Record.TypeName == "EXECVE").Record.ReadFields();
            var args = execve.All.Where(f => f.Key.StartsWith('a') && f.Key.Length > 1 && char.IsDigit(f.Key[1])).Select(f => f.DecodeUntrusted());
            return $"exec {exe}: {string.Join(' ', args)}";
        }
        return $"{call} {exe} saddr={records.Where(r => r.Record.TypeName == "SOCKADDR").Select(r => r.Record.ReadFields().GetString("saddr")).FirstOrDefault()}";
    }

    private static HashSet<ulong> EngineCitedSerials(string path)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = Program.Run(["scan", path, "--format", "ndjson", "--no-baseline", "--quiet"], stdout, stderr);
        Assert.True(code == 0, $"scan {path}: exit {code}: {stderr}");
        var serials = new HashSet<ulong>();
        foreach (var line in stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var evidence in JsonNode.Parse(line)!["imds"]?["evidence"]?.AsArray() ?? [])
            {
                var record = (string?)evidence!["record"];
                if (record is not null && record.StartsWith("audit:", StringComparison.Ordinal) && ulong.TryParse(record.AsSpan(6), out var serial))
                    serials.Add(serial);
            }
        }
        return serials;
    }

    private static IEnumerable<string> Lines(string path)
    {
        using var file = File.OpenRead(path);
        using var stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
            yield return line;
    }
}
