using System.Globalization;
using System.Net;
using System.Xml.Linq;
using ImdsWatch.Events;

namespace ImdsWatch.Sources.Syslog;

/// <summary>
/// What a syslog message says about metadata access: a netfilter/nftables LOG line (DST=…, UID=…), a Sysmon for
/// Linux event (EventID 1 process creation, EventID 3 network connection), or — the seed's syslog layer — any
/// other message naming an endpoint (returned as a mention).
/// </summary>
public static class SyslogEventReader
{
    public static HostEvent? Netfilter(SyslogLine s, EvidenceRef evidence, ulong sequence)
    {
        var fields = KeyValues(s.Message);
        if (!fields.TryGetValue("DST", out var dst) || !fields.ContainsKey("SRC") || !IPAddress.TryParse(dst, out var destination))
            return null;
        long? uid = fields.TryGetValue("UID", out var u) && long.TryParse(u, out var parsedUid) ? parsedUid : null;
        return new NetworkConnect
        {
            Timestamp = s.Timestamp,
            Host = s.Host,
            Sequence = sequence,
            Evidence = evidence,
            Source = EventOrigin.SyslogNetfilter,
            // A packet log names no process: one pseudo-process per user, so each user's traffic is one alert.
            Process = new ProcessSnapshot { Pid = -(int)((uid ?? 0) + 2), Name = "(packet)", User = new UserIdentity(uid, null, null, null, null, null) },
            Syscall = "packet " + (fields.GetValueOrDefault("PROTO") ?? "?"),
            Destination = destination,
            Port = fields.TryGetValue("DPT", out var dpt) && int.TryParse(dpt, out var port) ? port : null,
            Outcome = ConnectOutcome.Unknown,
        };
    }

    public static HostEvent? Sysmon(SyslogLine s, EvidenceRef evidence, ulong sequence)
    {
        var start = s.Message.IndexOf("<Event", StringComparison.Ordinal);
        if (start < 0)
            return null;
        XElement xml;
        try
        {
            xml = XElement.Parse(s.Message[start..]);
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
        var ns = xml.Name.Namespace;
        var id = xml.Descendants(ns + "EventID").FirstOrDefault()?.Value;
        var data = xml.Descendants(ns + "Data").Where(d => d.Attribute("Name") is not null)
            .GroupBy(d => d.Attribute("Name")!.Value).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        var user = data.GetValueOrDefault("User");
        var process = new ProcessSnapshot
        {
            Pid = int.TryParse(data.GetValueOrDefault("ProcessId"), out var pid) ? pid : -1,
            ParentPid = int.TryParse(data.GetValueOrDefault("ParentProcessId"), out var ppid) ? ppid : null,
            Executable = data.GetValueOrDefault("Image"),
            Name = data.GetValueOrDefault("Image") is { } image ? Path.GetFileName(image) : null,
            Args = data.GetValueOrDefault("CommandLine") is { } cmd ? [.. ShellWords.SplitCommands(cmd).FirstOrDefault() ?? [cmd]] : [],
            WorkingDirectory = data.GetValueOrDefault("CurrentDirectory"),
            User = new UserIdentity(null, user, null, null, null, null),
        };
        var time = DateTimeOffset.TryParse(data.GetValueOrDefault("UtcTime"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : s.Timestamp;
        var host = xml.Descendants(ns + "Computer").FirstOrDefault()?.Value ?? s.Host;
        return id switch
        {
            "1" => new ProcessExec { Timestamp = time, Host = host, Sequence = sequence, Process = process, Evidence = evidence, Source = EventOrigin.Sysmon, Syscall = "execve" },
            "3" when IPAddress.TryParse(data.GetValueOrDefault("DestinationIp"), out var ip) => new NetworkConnect
            {
                Timestamp = time,
                Host = host,
                Sequence = sequence,
                Process = process,
                Evidence = evidence,
                Source = EventOrigin.Sysmon,
                Syscall = "connect",
                Destination = ip,
                Port = int.TryParse(data.GetValueOrDefault("DestinationPort"), out var port) ? port : null,
                Outcome = ConnectOutcome.Success,
            },
            _ => null,
        };
    }

    private static Dictionary<string, string> KeyValues(string message)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var token in message.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                d.TryAdd(token[..eq], token[(eq + 1)..]);
        }
        return d;
    }
}
