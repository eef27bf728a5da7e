using System.Globalization;
using ImdsWatch.Config;

namespace ImdsWatch.Alerts;

/// <summary>
/// The one risk model every rule scores with: the points and their reasons are data (<c>risk.yaml</c>), so an
/// analyst sees why an alert scored as it did, and a maintainer changes a point in one place.
/// </summary>
public sealed class RiskModel
{
    private readonly Dictionary<string, RiskPoint> _points;

    private RiskModel(Dictionary<string, RiskPoint> points, int critical, int high, int medium)
    {
        _points = points;
        Critical = critical;
        High = high;
        Medium = medium;
    }

    public static RiskModel Default { get; } = From(BuiltInDocuments.Risk());

    public int Critical { get; }
    public int High { get; }
    public int Medium { get; }

    /// <summary>Every point, by key (for tests and exports).</summary>
    public IReadOnlyDictionary<string, RiskPoint> Points => _points;

    public RiskPoint this[string key] => _points.TryGetValue(key, out var p) ? p
        : throw new KeyNotFoundException($"risk.yaml has no point '{key}'");

    /// <summary>A new score, to which a rule adds the points that apply.</summary>
    public RiskScore Start() => new(this);

    public Severity SeverityOf(int score) =>
        score >= Critical ? Severity.Critical : score >= High ? Severity.High : score >= Medium ? Severity.Medium : Severity.Low;

    private static RiskModel From(RiskDocument doc)
    {
        var points = doc.Points.ToDictionary(kv => kv.Key, kv => new RiskPoint(kv.Key, kv.Value.Points, kv.Value.Reason), StringComparer.Ordinal);
        return new RiskModel(points, doc.Severity.Critical, doc.Severity.High, doc.Severity.Medium);
    }

    internal sealed class RiskDocument
    {
        public SeverityDoc Severity { get; set; } = new();
        public Dictionary<string, PointDoc> Points { get; set; } = [];
    }

    internal sealed class SeverityDoc
    {
        public int Critical { get; set; }
        public int High { get; set; }
        public int Medium { get; set; }
    }

    internal sealed class PointDoc
    {
        public int Points { get; set; }
        public string Reason { get; set; } = "";
    }
}

/// <summary>One entry of the risk model: its points and the reason shown with them.</summary>
public sealed record RiskPoint(string Key, int Points, string Reason)
{
    public string Explain(string? detail) =>
        string.Format(CultureInfo.InvariantCulture, "{0}{1} {2}", Points >= 0 ? "+" : "", Points,
            detail is null ? Reason : string.Format(CultureInfo.InvariantCulture, Reason, detail));
}
