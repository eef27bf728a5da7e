namespace ImdsWatch.Alerts;

/// <summary>An alert's risk as a rule builds it: points from the model, each with its reason, in order.</summary>
public sealed class RiskScore(RiskModel model)
{
    private readonly List<string> _reasons = [];

    public int Score { get; private set; }

    public IReadOnlyList<string> Reasons => _reasons;

    public Severity Severity => model.SeverityOf(Score);

    /// <summary>Adds the point <paramref name="key"/>; <paramref name="detail"/> fills the reason's {0}.</summary>
    public RiskScore Add(string key, string? detail = null)
    {
        var point = model[key];
        Score += point.Points;
        _reasons.Add(point.Explain(detail));
        return this;
    }

    /// <summary>Adds the point when <paramref name="condition"/> holds.</summary>
    public RiskScore AddIf(bool condition, string key, string? detail = null) => condition ? Add(key, detail) : this;

    /// <summary>A reason with no points: the evidence or basis behind the score.</summary>
    public RiskScore Note(string text)
    {
        _reasons.Add(text);
        return this;
    }

    /// <summary>Keeps the score within 1-100.</summary>
    public RiskScore Clamp()
    {
        Score = Math.Clamp(Score, 1, 100);
        return this;
    }
}
