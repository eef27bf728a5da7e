namespace ImdsWatch.Export;

/// <summary>The SIEMs imdswatch's detection logic can be exported to.</summary>
public enum ExportTarget
{
    Sigma,
    Splunk,
    Elastic,
}
