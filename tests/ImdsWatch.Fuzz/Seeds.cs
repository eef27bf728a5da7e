using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace ImdsWatch.Fuzz;

/// <summary>
/// Starting inputs for each kind of target: lines and event-sized chunks of the bundled samples, the regression
/// inputs under tests/, and <c>../shared/corpora</c> when it is there. Also written to a folder for AFL++.
/// </summary>
internal sealed partial class Seeds
{
    private readonly Dictionary<SeedKind, List<byte[]>> _byKind = [];

    public IReadOnlyList<byte[]> Of(SeedKind kind) => _byKind.TryGetValue(kind, out var list) && list.Count > 0 ? list : [[]];

    public static Seeds Load(string repoRoot, IEnumerable<string> extraCorpora)
    {
        var seeds = new Seeds();
        var samples = Path.Combine(repoRoot, "samples");
        var regressions = Path.Combine(repoRoot, "tests", "ImdsWatch.Tests", "Regressions");
        var auditFiles = new List<string> { Path.Combine(samples, "audit-enriched.log"), Path.Combine(samples, "audit-raw.log.gz") };
        auditFiles.AddRange(Files(regressions, "audit-*"));
        var corpora = extraCorpora.Where(Directory.Exists).ToList();
        foreach (var corpus in corpora)
            auditFiles.AddRange(Files(Path.Combine(corpus, "auditd"), "*").Where(f => !f.EndsWith(".golden", StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal)));
        foreach (var file in auditFiles)
        {
            var lines = Lines(file);
            seeds.AddLines(SeedKind.AuditLine, lines, 400);
            seeds.AddChunks(SeedKind.AuditChunk, lines, 12, 120);
            foreach (var line in lines.Take(4000))
            {
                foreach (Match m in HexValue().Matches(line))
                    seeds.Add(m.Groups[1].Value.StartsWith("saddr", StringComparison.Ordinal) ? SeedKind.SockAddr : SeedKind.Hex, m.Groups[2].Value);
            }
        }
        var syslog = Files(Path.Combine(samples, "syslog"), "*").Concat(Files(regressions, "syslog-*"));
        foreach (var file in syslog)
            seeds.AddLines(SeedKind.SyslogLine, Lines(file), 200);
        var web = Files(Path.Combine(samples, "web"), "*").Concat(Files(regressions, "alb-*")).Concat(Files(regressions, "squid-*"));
        foreach (var file in web)
            seeds.AddLines(SeedKind.WebLine, Lines(file), 200);
        seeds.AddLines(SeedKind.WebLine, [.. BuiltIn.WebLines], 100);
        foreach (var file in Files(regressions, "ecs-*"))
            seeds.AddLines(SeedKind.EcsLine, Lines(file), 50);
        seeds.AddLines(SeedKind.EcsLine, [.. BuiltIn.EcsLines], 50);
        foreach (var corpus in corpora)
        {
            foreach (var file in Files(Path.Combine(corpus, "cloudtrail"), "*").Take(12))
                seeds.Add(SeedKind.CloudTrail, Clip(File.ReadAllBytes(file), 64 * 1024));
        }
        seeds.Add(SeedKind.CloudTrail, BuiltIn.CloudTrail);
        seeds.Add(SeedKind.Config, BuiltIn.Config);
        seeds.Add(SeedKind.Config, "host: web-1\nmin_severity: high\n");
        seeds.Add(SeedKind.Execve, "argc=3 a0=\"curl\" a1_len=8 a1[0]=6869 a1[1]=\"x\" a2=0x");
        seeds.Add(SeedKind.Execve, "argc=2 a0=\"curl\" a1=687474703A2F2F3136392E3235342E3136392E3235342F");
        foreach (var line in seeds.Of(SeedKind.AuditLine).Select(Encoding.UTF8.GetString).Where(l => l.Contains("type=EXECVE", StringComparison.Ordinal)).Take(100))
            seeds.Add(SeedKind.Execve, line[(line.IndexOf("): ", StringComparison.Ordinal) + 3)..]);
        foreach (var kind in Enum.GetValues<SeedKind>().Where(k => k is SeedKind.Text))
            seeds.AddLines(kind, [.. BuiltIn.Texts], 100);
        return seeds;
    }

    /// <summary>Writes the seeds of a kind as files, one input each (AFL++'s -i folder).</summary>
    public void WriteTo(SeedKind kind, string directory)
    {
        Directory.CreateDirectory(directory);
        var i = 0;
        foreach (var seed in Of(kind).Take(200))
            File.WriteAllBytes(Path.Combine(directory, $"seed-{i++:D4}"), seed);
    }

    private void Add(SeedKind kind, string text) => Add(kind, Encoding.UTF8.GetBytes(text));

    private void Add(SeedKind kind, byte[] bytes)
    {
        if (!_byKind.TryGetValue(kind, out var list))
            _byKind[kind] = list = [];
        if (list.Count < 2000)
            list.Add(bytes);
    }

    private void AddLines(SeedKind kind, List<string> lines, int max)
    {
        // Spread over the file: the first lines of a log are often all alike.
        var step = Math.Max(1, lines.Count / max);
        for (var i = 0; i < lines.Count; i += step)
        {
            if (lines[i].Length > 0)
                Add(kind, lines[i]);
        }
    }

    private void AddChunks(SeedKind kind, List<string> lines, int size, int max)
    {
        var step = Math.Max(size, lines.Count / max);
        for (var i = 0; i < lines.Count; i += step)
            Add(kind, string.Join('\n', lines.Skip(i).Take(size)) + "\n");
    }

    private static List<string> Lines(string file)
    {
        using Stream raw = File.OpenRead(file);
        using var stream = file.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line && lines.Count < 50_000)
            lines.Add(line);
        return lines;
    }

    private static IEnumerable<string> Files(string directory, string pattern) =>
        Directory.Exists(directory) ? Directory.EnumerateFiles(directory, pattern, SearchOption.AllDirectories).Order(StringComparer.Ordinal) : [];

    private static byte[] Clip(byte[] bytes, int max) => bytes.Length <= max ? bytes : bytes[..max];

    [GeneratedRegex(@"\b(saddr|a\d+|proctitle|SADDR)=([0-9A-Fa-f]{8,512})\b")]
    private static partial Regex HexValue();
}

internal enum SeedKind
{
    AuditLine,
    AuditChunk,
    SockAddr,
    Hex,
    Execve,
    SyslogLine,
    EcsLine,
    WebLine,
    CloudTrail,
    Config,
    Text,
}
