using System.Globalization;
using System.Text.RegularExpressions;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Sources.Web;

/// <summary>Web and proxy access logs: nginx/Apache common and combined (with an optional trailing Host), AWS ALB, squid native.</summary>
public static partial class WebAccessLogReader
{
    public static bool LooksLikeAccessLog(string line) => Combined().IsMatch(line) || Alb().IsMatch(line) || Squid().IsMatch(line);

    /// <summary>One access-log line as a request, or null with a <see cref="ParseIssue"/>; never an exception.</summary>
    public static HttpRequest? Parse(string line, string file, long lineNumber, List<ParseIssue> issues)
    {
        try
        {
            return ParseLine(line, file, lineNumber, issues);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            issues.Add(new ParseIssue(file, lineNumber, $"unreadable access-log line ({e.GetType().Name})"));
            return null;
        }
    }

    private static HttpRequest? ParseLine(string line, string file, long lineNumber, List<ParseIssue> issues)
    {
        var m = Combined().Match(line);
        if (m.Success)
        {
            if (!DateTimeOffset.TryParseExact(m.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t))
            {
                issues.Add(new ParseIssue(file, lineNumber, $"bad access-log time [{m.Groups["time"].Value}]"));
                return null;
            }
            var (method, target) = RequestLine(m.Groups["request"].Value);
            return new HttpRequest
            {
                Timestamp = t,
                ClientIp = m.Groups["client"].Value,
                Method = method,
                Target = target,
                Status = int.TryParse(m.Groups["status"].Value, out var st) ? st : 0,
                Bytes = long.TryParse(m.Groups["bytes"].Value, out var b) ? b : 0,
                UserAgent = m.Groups["ua"].Success ? m.Groups["ua"].Value : null,
                HostHeader = m.Groups["host"].Success ? m.Groups["host"].Value : null,
                LogKind = "combined",
                Evidence = new EvidenceRef(file, lineNumber, $"web:{lineNumber}"),
            };
        }
        m = Alb().Match(line);
        if (m.Success)
        {
            if (!DateTimeOffset.TryParse(m.Groups["time"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            {
                issues.Add(new ParseIssue(file, lineNumber, $"bad ALB time {m.Groups["time"].Value}"));
                return null;
            }
            var (method, target) = RequestLine(m.Groups["request"].Value);
            return new HttpRequest
            {
                Timestamp = t,
                ClientIp = m.Groups["client"].Value,
                Method = method,
                Target = target,
                Status = int.TryParse(m.Groups["status"].Value, out var st) ? st : 0,
                Bytes = long.TryParse(m.Groups["bytes"].Value, out var b) ? b : 0,
                UserAgent = m.Groups["ua"].Value,
                LogKind = "alb",
                Evidence = new EvidenceRef(file, lineNumber, $"web:{lineNumber}"),
            };
        }
        m = Squid().Match(line);
        if (m.Success)
        {
            // squid's time is seconds since 1970 with milliseconds; anything past 9999 is a damaged line.
            if (!double.TryParse(m.Groups["time"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
                || seconds > Sources.Auditd.AuditRecordParser.MaxStampSeconds)
            {
                issues.Add(new ParseIssue(file, lineNumber, $"bad squid time {m.Groups["time"].Value}"));
                return null;
            }
            return new HttpRequest
            {
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)),
                ClientIp = m.Groups["client"].Value,
                Method = m.Groups["method"].Value,
                Target = m.Groups["url"].Value,
                Status = int.Parse(m.Groups["status"].Value, CultureInfo.InvariantCulture),
                Bytes = long.TryParse(m.Groups["bytes"].Value, CultureInfo.InvariantCulture, out var b) ? b : 0,
                LogKind = "squid",
                Evidence = new EvidenceRef(file, lineNumber, $"web:{lineNumber}"),
            };
        }
        issues.Add(new ParseIssue(file, lineNumber, "not an nginx/Apache, ALB or squid access-log line"));
        return null;
    }

    private static (string Method, string Target) RequestLine(string request)
    {
        var parts = request.Split(' ');
        return parts.Length >= 2 ? (parts[0], parts[1]) : ("-", request);
    }

    [GeneratedRegex("""^(?<client>\S+) \S+ \S+ \[(?<time>[^\]]+)\] "(?<request>(?:[^"\\]|\\.)*)" (?<status>\d{3}|-) (?<bytes>\d+|-)(?: "(?<referer>(?:[^"\\]|\\.)*)" "(?<ua>(?:[^"\\]|\\.)*)")?(?: "?(?<host>[^"\s]+)"?)?""")]
    private static partial Regex Combined();

    [GeneratedRegex(""""^(?:https?|h2|grpcs?|ws|wss) (?<time>\d{4}-\d\d-\d\dT[^ ]+) \S+ (?<client>[^: ]+):\d+ \S+ \S+ \S+ \S+ (?<status>\d{3}|-) \S+ \d+ (?<bytes>\d+) "(?<request>[^"]*)" "(?<ua>[^"]*)"""")]
    private static partial Regex Alb();

    [GeneratedRegex("""^(?<time>\d{9,}\.\d+)\s+\d+ (?<client>\S+) \S+/(?<status>\d{3}) (?<bytes>\d+) (?<method>\S+) (?<url>\S+)""")]
    private static partial Regex Squid();
}
