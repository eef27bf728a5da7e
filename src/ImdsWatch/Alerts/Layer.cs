namespace ImdsWatch.Alerts;

/// <summary>Where the evidence for an alert comes from.</summary>
public enum Layer
{
    /// <summary>An exec's command line (audit EXECVE/PROCTITLE, ECS, Sysmon).</summary>
    Process,

    /// <summary>A connection to a metadata address (audit SOCKADDR, netfilter, ECS, Sysmon).</summary>
    Network,

    /// <summary>A log message naming the metadata service.</summary>
    Syslog,

    /// <summary>A request in a web server's access log.</summary>
    Web,

    /// <summary>API calls in CloudTrail.</summary>
    Cloud,

    /// <summary>Rarity against the learned baseline.</summary>
    Anomaly,
}

public static class LayerNames
{
    public static string ToWire(this Layer layer) => layer switch
    {
        Layer.Process => "process",
        Layer.Network => "network",
        Layer.Syslog => "syslog",
        Layer.Web => "web",
        Layer.Cloud => "cloud",
        _ => "anomaly",
    };
}
