using System.Net;
using System.Text.Json;
using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Corpora;

/// <summary>
/// Real logs from five other projects (../shared/corpora/auditd). Every file must parse without a crash, and
/// where the other projects' parsers left their output (go-libaudit *.golden, laurel *.json), we must agree.
/// </summary>
public sealed class CorpusTests
{
    public static TheoryData<string> AuditFiles()
    {
        var data = new TheoryData<string>();
        var root = Path.Combine(Repo.Corpora, "auditd");
        if (!Directory.Exists(root))
        {
            data.Add("(absent)");
            return data;
        }
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (!f.EndsWith(".golden", StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal))
                data.Add(Path.GetRelativePath(root, f));
        }
        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(AuditFiles))]
    public void Every_corpus_file_parses_without_a_crash(string relative)
    {
        var path = Path.Combine(Repo.Corpora, "auditd", relative);
        var result = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]);
        Assert.True(result.Records > 0, $"{relative}: no audit record read");
        Assert.All(result.Issues, i => Assert.False(string.IsNullOrEmpty(i.Reason)));
    }

    [CorpusFact]
    public void Sockaddr_decoding_agrees_with_go_libaudit()
    {
        var compared = 0;
        foreach (var golden in Directory.EnumerateFiles(Path.Combine(Repo.Corpora, "auditd", "go-libaudit"), "*.golden"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(golden));
            foreach (var record in doc.RootElement.EnumerateArray())
            {
                if (record.ValueKind != JsonValueKind.Object || !record.TryGetProperty("record_type", out var type) || type.GetString() != "sockaddr" || !record.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("family", out _))
                    continue;
                var raw = record.GetProperty("raw_msg").GetString()!;
                var saddr = raw[(raw.IndexOf("saddr=", StringComparison.Ordinal) + 6)..].Split(' ')[0];
                var ours = SockAddr.DecodeHex(System.Text.Encoding.ASCII.GetBytes(saddr));
                var family = data.GetProperty("family").GetString();
                switch (family)
                {
                    case "ipv4" or "ipv6":
                        Assert.Equal(IPAddress.Parse(data.GetProperty("addr").GetString()!), ours.Address);
                        Assert.Equal(int.Parse(data.GetProperty("port").GetString()!), ours.Port);
                        break;
                    case "unix":
                        Assert.Equal(data.GetProperty("path").GetString(), ours.UnixPath);
                        break;
                    case "netlink":
                        Assert.Equal(SockAddrFamily.Netlink, ours.Family);
                        break;
                    default:
                        continue;
                }
                compared++;
            }
        }
        Assert.True(compared >= 4, $"only {compared} SOCKADDR records compared");
    }

    [CorpusFact]
    public void Execve_arguments_agree_with_laurel()
    {
        var compared = 0;
        foreach (var json in Directory.EnumerateFiles(Path.Combine(Repo.Corpora, "auditd", "laurel"), "*.json"))
        {
            var input = Path.ChangeExtension(json, ".txt");
            if (!File.Exists(input))
                continue;
            var execs = DetectionPipeline.ReadEvents(new InputSource(input, input)).OfType<ProcessExec>().ToDictionary(e => e.Sequence);
            foreach (var line in File.ReadLines(json).Where(l => l.TrimStart().StartsWith('{')))
            {
                using var doc = JsonDocument.Parse(line);
                if (!doc.RootElement.TryGetProperty("EXECVE", out var execve) || !execve.TryGetProperty("ARGV", out var argv))
                    continue;
                var serial = ulong.Parse(doc.RootElement.GetProperty("ID").GetString()!.Split(':')[1]);
                Assert.True(execs.ContainsKey(serial), $"{Path.GetFileName(input)}: no exec for serial {serial}");
                Assert.Equal(argv.EnumerateArray().Select(a => a.GetString()!), execs[serial].Process.Args);
                compared++;
            }
        }
        Assert.True(compared >= 3, $"only {compared} execs compared");
    }

    [CorpusFact]
    public void Big_endian_bind_from_laurel_decodes_to_port_55555()
    {
        var path = Path.Combine(Repo.Corpora, "auditd", "laurel", "record-bind-ipv4-bigendian.txt");
        var text = File.ReadAllText(path).Replace("syscall=327", "syscall=327", StringComparison.Ordinal);
        Assert.Contains("0002D903", text, StringComparison.Ordinal);
        var saddr = SockAddr.DecodeHex("0002D903000000000000000000000000"u8, SyscallTable.IsBigEndian(SyscallTable.ArchPpc64));
        Assert.Equal(55555, saddr.Port);
    }

    [CorpusFact]
    public void Benign_gce_guest_agent_connects_are_low_first_seen_alerts_and_nothing_else_alerts()
    {
        var root = Path.Combine(Repo.Corpora, "auditd");
        var sources = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".golden", StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal))
            .Select(f => new InputSource(f, f)).ToList();
        var result = new DetectionPipeline(DetectionRules.Default).Scan(sources);
        Assert.NotEmpty(result.Alerts);
        Assert.All(result.Alerts, a =>
        {
            Assert.Equal(AlertType.MetadataAPINetwork, a.AlertType);
            Assert.Equal(Severity.Low, a.Severity);
            Assert.Contains("non-interactive", a.Tags);
            Assert.StartsWith("/usr/bin/python", a.Process.Executable, StringComparison.Ordinal);
        });
    }
}

/// <summary>ECS-style events written by Elastic's own parser (go-libaudit aucoalesce, as Auditbeat), read by the ECS reader.</summary>
public sealed class EcsCorpusTests
{
    [CorpusFact]
    public void Elastic_parser_output_is_read_and_the_gce_agent_connect_is_found()
    {
        var lines = new List<string>();
        foreach (var golden in Directory.EnumerateFiles(Path.Combine(Repo.Corpora, "auditd", "go-libaudit-coalesce"), "*.json.golden"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(golden));
            lines.AddRange(doc.RootElement.EnumerateArray().Select(t => JsonSerializer.Serialize(t.GetProperty("event"))));
        }
        var path = Audit.WriteTemp(string.Join('\n', lines), "auditbeat.ndjson");
        Assert.Equal(ImdsWatch.Sources.Input.LogFormat.Ecs, ImdsWatch.Sources.Input.FormatDetector.Detect(new InputSource(path, path)));
        var result = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]);
        Assert.Equal(lines.Count, result.Records);
        var alert = Assert.Single(result.Alerts);
        Assert.Equal("/usr/bin/python3.5", alert.Process.Executable);
        Assert.Equal(IPAddress.Parse("169.254.169.254"), alert.DestinationIp);
        Assert.Equal("attempt", alert.Outcome);
        Assert.True(result.Detection.Execs > 0, "no exec read from the ECS events");
    }
}
