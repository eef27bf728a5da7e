namespace ImdsWatch.Alerts;

/// <summary>What an alert says happened: the seed's AlertType names, and ours. The name is the wire value.</summary>
public enum AlertType
{
    /// <summary>An exec whose argv or proctitle reaches a metadata endpoint.</summary>
    MetadataAPIProcess,

    /// <summary>A connect/sendto to a metadata address (SOCKADDR), or a log message naming the service.</summary>
    MetadataAPINetwork,

    /// <summary>A request naming the metadata service, as a web server logged it.</summary>
    MetadataSSRFAttempt,

    /// <summary>An instance role's session used away from the instance (CloudTrail).</summary>
    InstanceCredentialExfiltration,

    /// <summary>Instance credentials delivered through IMDSv1 (CloudTrail).</summary>
    IMDSv1CredentialDelivery,

    /// <summary>The seed's CloudTrail condition, as written.</summary>
    MetadataCredentialsUsed,

    /// <summary>Credentials fetched on a host or through a web server, then used elsewhere.</summary>
    CredentialTheftChain,

    /// <summary>A user rare on this host and fleet reached the metadata service.</summary>
    UnusualMetadataUser,

    /// <summary>A program rare on this host and fleet reached the metadata service.</summary>
    UnusualMetadataProcess,
}
