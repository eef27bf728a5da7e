namespace ImdsWatch.Detection;

/// <summary>One allowed agent: the executables (or interpreter scripts) that are it.</summary>
public sealed record AgentRule(string Name, IReadOnlyList<string> Executables, IReadOnlyList<string> Scripts, bool Descendants);
