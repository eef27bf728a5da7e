using System.Text;
using ImdsWatch.Scanning;

namespace ImdsWatch.Sources.Web;

/// <summary>Web server, load balancer and proxy access logs (combined, ALB, Squid), a request per line.</summary>
public sealed class WebAccessSource : LineSource
{
    private readonly List<ParseIssue> _found = [];

    protected override void ReadLine(ReadOnlySpan<byte> line, long lineNumber, SourceContext context)
    {
        context.Stats.Records++;
        if (WebAccessLogReader.Parse(Encoding.UTF8.GetString(line), context.Name, lineNumber, _found) is { } request)
            context.Emit(request);
        foreach (var issue in _found)
            context.Issue(issue.Line, issue.Reason);
        _found.Clear();
    }
}
