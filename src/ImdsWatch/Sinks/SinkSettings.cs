using ImdsWatch.Alerts;

namespace ImdsWatch.Sinks;

/// <summary>One configured sink (a <c>sinks:</c> entry or a <c>--sink KIND=TARGET</c>), with its delivery options.</summary>
public sealed record SinkSettings
{
    public required SinkKind Kind { get; init; }

    /// <summary>A URL (webhook, hec, elasticsearch, syslog), a path (file) or nothing (stdout).</summary>
    public string? Target { get; init; }

    /// <summary>Names the sink in stats and its spool directory (default: the kind, numbered when repeated).</summary>
    public required string Name { get; init; }

    public Severity MinimumSeverity { get; init; } = Severity.Low;
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The Splunk HEC token.</summary>
    public string? Token { get; init; }

    /// <summary>Splunk index, or Elasticsearch index / data stream (default imdswatch-alerts).</summary>
    public string? Index { get; init; }

    public string SourceType { get; init; } = "imdswatch:alert";
    /// <summary>
    /// A request carries at most this many alerts and about this many bytes (one alert more than the bytes allow is
    /// never split). A batch that is not full waits at most <see cref="Linger"/> after the previous request began, so a
    /// lone alert goes at once and a burst goes in few requests.
    /// </summary>
    public int BatchSize { get; init; } = 500;
    public long BatchMaxBytes { get; init; } = 1L << 20;
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Webhook: a JSON array per request (default), NDJSON, or one object per request.</summary>
    public WebhookFormat WebhookFormat { get; init; } = WebhookFormat.Array;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Accept any server certificate (test setups only).</summary>
    public bool InsecureSkipVerify { get; init; }

    /// <summary>A PEM file of the CA that signs the receiver's certificate, instead of the system's.</summary>
    public string? CaFile { get; init; }

    /// <summary>File sink: rotate at this size, keep this many old files.</summary>
    public long MaxFileBytes { get; init; } = 100L << 20;
    public int MaxFiles { get; init; } = 5;

    /// <summary>The spool's bound on disk.</summary>
    public long SpoolMaxBytes { get; init; } = 256L << 20;

    /// <summary>Retries within one delivery attempt, and the first backoff (doubled each time, with jitter).</summary>
    public int Retries { get; init; } = 3;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The circuit opens for this long after most attempts failed; the spool keeps what arrives.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(15);
}
