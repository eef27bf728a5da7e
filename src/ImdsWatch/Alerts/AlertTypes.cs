namespace ImdsWatch.Alerts;

/// <summary>Which detection layer fired (the seed's AlertType names, and ours).</summary>
public static class AlertTypes
{
    /// <summary>An exec whose argv or proctitle reaches a metadata endpoint.</summary>
    public const string MetadataAPIProcess = "MetadataAPIProcess";

    /// <summary>A connect/sendto to a metadata address, decoded from the kernel's SOCKADDR.</summary>
    public const string MetadataAPINetwork = "MetadataAPINetwork";
}
