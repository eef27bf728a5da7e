using System.Globalization;
using System.Text.RegularExpressions;

namespace ImdsWatch.Sources.Syslog;

/// <summary>
/// Syslog headers: RFC 3164 ("Nov 24 13:14:39 host prog[pid]: msg"; the year is not written, so it is the file's
/// year), RFC 5424 ("&lt;34&gt;1 2026-11-24T13:14:39Z host prog pid - - msg") and the ISO form rsyslog writes.
/// </summary>
public static partial class SyslogParser
{
    public static bool LooksLikeSyslog(string line) => Bsd().IsMatch(line) || Ietf().IsMatch(line) || Iso().IsMatch(line);

    public static SyslogLine? Parse(string line, int defaultYear)
    {
        var m = Ietf().Match(line);
        if (m.Success && DateTimeOffset.TryParse(m.Groups["time"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t5424))
            return new SyslogLine(t5424, m.Groups["host"].Value, m.Groups["prog"].Value, ParsePid(m.Groups["pid"].Value), m.Groups["msg"].Value);
        m = Iso().Match(line);
        if (m.Success && DateTimeOffset.TryParse(m.Groups["time"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var tIso))
            return new SyslogLine(tIso, m.Groups["host"].Value, m.Groups["prog"].Value, ParsePid(m.Groups["pid"].Value), m.Groups["msg"].Value);
        m = Bsd().Match(line);
        if (m.Success)
        {
            var text = $"{defaultYear} {m.Groups["time"].Value}";
            if (DateTime.TryParseExact(Regex.Replace(text, "  +", " "), "yyyy MMM d HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var tBsd))
                return new SyslogLine(new DateTimeOffset(tBsd, TimeSpan.Zero), m.Groups["host"].Value, m.Groups["prog"].Value, ParsePid(m.Groups["pid"].Value), m.Groups["msg"].Value);
        }
        return null;
    }

    private static int? ParsePid(string s) => int.TryParse(s, out var p) ? p : null;

    [GeneratedRegex(@"^(?<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?<host>\S+) (?<prog>[^\s:\[]+)(?:\[(?<pid>\d+)\])?: ?(?<msg>.*)$")]
    private static partial Regex Bsd();

    [GeneratedRegex(@"^<\d{1,3}>1 (?<time>\S+) (?<host>\S+) (?<prog>\S+) (?<pid>\S+) \S+ (?:-|\[.*?\]) ?(?<msg>.*)$")]
    private static partial Regex Ietf();

    [GeneratedRegex(@"^(?<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (?<host>\S+) (?<prog>[^\s:\[]+)(?:\[(?<pid>\d+)\])?: ?(?<msg>.*)$")]
    private static partial Regex Iso();
}
