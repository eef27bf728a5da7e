namespace ImdsWatch.Sinks;

/// <summary>Where alerts can go; the wire names are the <c>--sink KIND=</c> and <c>sinks: - type:</c> values.</summary>
public enum SinkKind
{
    Stdout,
    File,
    Webhook,
    Hec,
    Elasticsearch,
    Syslog,
}
