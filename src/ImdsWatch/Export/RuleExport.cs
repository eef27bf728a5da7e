using ImdsWatch.Detection;

namespace ImdsWatch.Export;

/// <summary>
/// Turns the catalogs detection runs on (endpoints, spellings, paths, programs, agents, risk points) into rules
/// for a SIEM. Everything comes from <see cref="DetectionRules"/>, so an export never drifts from the engine.
/// </summary>
public static class RuleExport
{
    public static IReadOnlyList<ExportFile> Generate(ExportTarget target, DetectionRules rules)
    {
        var model = ExportModel.From(rules);
        return target switch
        {
            ExportTarget.Sigma => SigmaExporter.Export(model),
            ExportTarget.Splunk => SplunkExporter.Export(model),
            ExportTarget.Elastic => ElasticExporter.Export(model),
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, "no such export target"),
        };
    }
}
