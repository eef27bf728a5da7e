using System.Text;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Sources;

/// <summary>
/// A format read a line at a time as text: ECS events (one JSON object per line) and web access logs (a request per
/// line). The format's parser returns the line's event, or none, and adds what it found wrong to the issues.
/// </summary>
public sealed class TextLineSource(TextLineSource.Parser parse) : LineSource
{
    public delegate IObservedEvent? Parser(string line, string file, long lineNumber, List<ParseIssue> issues);

    private readonly List<ParseIssue> _found = [];

    protected override void ReadLine(ReadOnlySpan<byte> line, long lineNumber, SourceContext context)
    {
        context.Stats.Records++;
        if (parse(Encoding.UTF8.GetString(line), context.Name, lineNumber, _found) is { } e)
            context.Emit(e);
        foreach (var issue in _found)
            context.Issue(issue.Line, issue.Reason);
        _found.Clear();
    }
}
