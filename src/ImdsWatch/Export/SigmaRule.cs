namespace ImdsWatch.Export;

/// <summary>A search identifier: a map of field matches (AND) or a list of keywords (OR).</summary>
internal sealed record SigmaSearch(string Name, IReadOnlyList<SigmaFieldMatch> Fields, IReadOnlyList<string> Keywords)
{
    public static SigmaSearch Map(string name, params SigmaFieldMatch[] fields) => new(name, fields, []);

    public static SigmaSearch KeywordList(string name, IEnumerable<string> keywords) => new(name, [], [.. keywords.Distinct()]);
}

/// <summary>One field with its modifiers (<c>a0|endswith</c>) and the values it takes (OR).</summary>
internal sealed record SigmaFieldMatch(string Field, IReadOnlyList<object> Values)
{
    public static SigmaFieldMatch Of(string field, IEnumerable<string> values) => new(field, [.. values.Distinct()]);
}

/// <summary>A Sigma detection rule, with the comment that says what the target cannot express.</summary>
internal sealed record SigmaRule
{
    public required string FileName { get; init; }
    public required string Folder { get; init; }
    public required string Title { get; init; }
    public string? Name { get; init; }
    public required string Description { get; init; }
    public required IReadOnlyList<string> References { get; init; }
    public required (string? Category, string? Product, string? Service) LogSource { get; init; }
    public required IReadOnlyList<SigmaSearch> Searches { get; init; }
    public required string Condition { get; init; }
    public required IReadOnlyList<string> FalsePositives { get; init; }
    public required string Level { get; init; }
    public IReadOnlyList<string> Fields { get; init; } = [];
    public IReadOnlyList<string> Limits { get; init; } = [];
    public IReadOnlyList<string> ExtraTags { get; init; } = [];
}

/// <summary>A Sigma correlation rule over named rules.</summary>
internal sealed record SigmaCorrelation
{
    public required string FileName { get; init; }
    public required string Folder { get; init; }
    public required string Title { get; init; }
    public required string Description { get; init; }
    public required string Type { get; init; }
    public required IReadOnlyList<string> Rules { get; init; }
    public required IReadOnlyList<string> GroupBy { get; init; }
    public required string Timespan { get; init; }
    public IReadOnlyList<(string Key, object Value)> Condition { get; init; } = [];
    public IReadOnlyList<(string Alias, IReadOnlyList<(string Rule, string Field)> Fields)> Aliases { get; init; } = [];
    public required IReadOnlyList<string> FalsePositives { get; init; }
    public required string Level { get; init; }
    public IReadOnlyList<string> Limits { get; init; } = [];
}
