using System.Text;
using ImdsWatch.Scanning;

namespace ImdsWatch.Sources.Ecs;

/// <summary>Elastic Common Schema events, one JSON object per line (Auditbeat, Elastic Agent, Filebeat).</summary>
public sealed class EcsSource : LineSource
{
    private readonly List<ParseIssue> _found = [];

    protected override void ReadLine(ReadOnlySpan<byte> line, long lineNumber, SourceContext context)
    {
        context.Stats.Records++;
        if (EcsEventReader.Parse(Encoding.UTF8.GetString(line), context.Name, lineNumber, _found) is { } e)
            context.Emit(e);
        foreach (var issue in _found)
            context.Issue(issue.Line, issue.Reason);
        _found.Clear();
    }
}
