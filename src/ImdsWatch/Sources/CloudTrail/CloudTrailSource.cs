using ImdsWatch.Scanning;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>CloudTrail records, in whatever shape the file holds them, each an <see cref="Events.ApiCall"/>.</summary>
public sealed class CloudTrailSource : IEventSource
{
    public void Read(InputSource input, SourceContext context, CancellationToken cancellation)
    {
        var found = new List<ParseIssue>();
        var calls = CloudTrailReader.Read(input, found);
        foreach (var issue in found)
            context.Issue(issue.Line, issue.Reason);
        foreach (var call in calls)
        {
            context.Stats.Records++;
            context.Emit(call);
        }
        context.Stats.Bytes = input.Length ?? 0;
        context.Progress?.Invoke(context.Stats.Bytes);
    }
}
