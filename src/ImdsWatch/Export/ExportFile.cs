namespace ImdsWatch.Export;

/// <summary>One file of an export: its path inside the output folder (forward slashes) and its text.</summary>
public sealed record ExportFile(string Path, string Content);
