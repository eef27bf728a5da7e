using ImdsWatch.Sinks.Spool;

namespace ImdsWatch.Sinks;

/// <summary>Builds the configured sinks: stdout and file write at once; the network sinks deliver from a spool.</summary>
public static class SinkFactory
{
    /// <summary><c>KIND=TARGET</c> from the command line (<c>stdout</c> alone is fine), e.g. <c>webhook=http://127.0.0.1:8080/alerts</c>.</summary>
    public static SinkSettings Parse(string text, string name)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var kindText = equals < 0 ? text : text[..equals];
        var target = equals < 0 ? null : text[(equals + 1)..];
        var kind = KindOf(kindText, "--sink");
        if (kind != SinkKind.Stdout && string.IsNullOrEmpty(target))
            throw new InvalidDataException($"--sink {kindText}: say where, e.g. --sink {kindText}={Example(kind)}");
        return new SinkSettings
        {
            Kind = kind,
            Target = target,
            Name = name,
            Token = kind == SinkKind.Hec ? Environment.GetEnvironmentVariable("IMDSWATCH_HEC_TOKEN") : null,
        };
    }

    public static SinkKind KindOf(string text, string where) => text.ToLowerInvariant() switch
    {
        "stdout" => SinkKind.Stdout,
        "file" => SinkKind.File,
        "webhook" => SinkKind.Webhook,
        "hec" or "splunk" => SinkKind.Hec,
        "elasticsearch" or "opensearch" => SinkKind.Elasticsearch,
        "syslog" => SinkKind.Syslog,
        _ => throw new InvalidDataException($"{where}: '{text}' is not a sink kind (stdout, file, webhook, hec, elasticsearch, syslog)"),
    };

    private static string Example(SinkKind kind) => kind switch
    {
        SinkKind.File => "/var/log/imdswatch/alerts.ndjson",
        SinkKind.Syslog => "udp://127.0.0.1:514",
        SinkKind.Hec => "https://splunk.example:8088",
        SinkKind.Elasticsearch => "https://es.example:9200",
        _ => "http://127.0.0.1:8080/alerts",
    };

    /// <summary>The receiver a network sink delivers to (null for stdout and file).</summary>
    public static IAlertTarget? Target(SinkSettings s) => s.Kind switch
    {
        SinkKind.Webhook => new WebhookTarget(s),
        SinkKind.Hec => new SplunkHecTarget(s),
        SinkKind.Elasticsearch => new ElasticsearchTarget(s),
        SinkKind.Syslog => new SyslogTarget(s),
        _ => null,
    };

    /// <summary>The sink, with its spool under <paramref name="spoolRoot"/>/NAME for the network kinds.</summary>
    public static IAlertSink Create(SinkSettings s, TextWriter stdout, string spoolRoot, Action<string> log)
    {
        if (s.Kind == SinkKind.Stdout)
            return new StdoutSink(stdout, s.MinimumSeverity);
        if (s.Kind == SinkKind.File)
            return new FileSink(s);
        var spool = new DiskSpool(Path.Combine(spoolRoot, s.Name), s.SpoolMaxBytes)
        {
            OnDropped = (count, total) => log($"warning: sink {s.Name}: spool full ({s.SpoolMaxBytes} bytes), dropped the {count} oldest alert(s), {total} so far"),
        };
        return new SpooledSink(s, Target(s)!, spool, log);
    }
}
