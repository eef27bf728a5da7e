using ImdsWatch.Config;

namespace ImdsWatch.Sinks;

/// <summary>The <c>sinks:</c> list of the configuration as <see cref="SinkSettings"/>, checked, each with a unique name.</summary>
public static class SinkConfig
{
    public static List<SinkSettings> FromConfig(ImdsWatchConfig config, IEnumerable<string> commandLine)
    {
        var sinks = new List<SinkSettings>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        string Unique(string? wanted, SinkKind kind)
        {
            var name = wanted ?? kind.ToString().ToLowerInvariant();
            for (var n = 2; !names.Add(name); n++)
                name = $"{wanted ?? kind.ToString().ToLowerInvariant()}-{n}";
            if (name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
                throw new InvalidDataException($"sinks: name '{name}' cannot name a spool directory");
            return name;
        }
        foreach (var (e, i) in config.Sinks.Select((e, i) => (e, i)))
        {
            var kind = SinkFactory.KindOf(e.Type, $"sinks[{i}].type");
            var target = kind == SinkKind.File ? e.Path ?? e.Url : e.Url;
            if (kind != SinkKind.Stdout && string.IsNullOrWhiteSpace(target))
                throw new InvalidDataException($"sinks[{i}] ({e.Type}): {(kind == SinkKind.File ? "path" : "url")}: is required");
            if (e.BatchSize < 1 || e.BatchMaxMb <= 0 || e.TimeoutSeconds <= 0 || e.SpoolMaxMb <= 0 || e.MaxFileMb <= 0 || e.Retries < 0 || e.MaxFiles < 0)
                throw new InvalidDataException($"sinks[{i}] ({e.Type}): batch_size, batch_max_mb, timeout_seconds, spool_max_mb and max_file_mb must be positive");
            if (e.LingerMs is < 0 or > 10_000)
                throw new InvalidDataException($"sinks[{i}] ({e.Type}): linger_ms must be between 0 and 10000");
            var settings = new SinkSettings
            {
                Kind = kind,
                Target = target,
                Name = Unique(e.Name, kind),
                MinimumSeverity = e.MinSeverity is null ? config.MinimumSeverity : EffectiveConfig.ParseSeverity(e.MinSeverity, $"sinks[{i}].min_severity"),
                Headers = e.Headers,
                Token = e.Token ?? (kind == SinkKind.Hec ? Environment.GetEnvironmentVariable("IMDSWATCH_HEC_TOKEN") : null),
                Index = e.Index,
                SourceType = e.Sourcetype ?? "imdswatch:alert",
                BatchSize = e.BatchSize,
                BatchMaxBytes = (long)(e.BatchMaxMb * (1 << 20)),
                Linger = TimeSpan.FromMilliseconds(e.LingerMs),
                WebhookFormat = FormatOf(e.Format, kind, $"sinks[{i}].format"),
                Timeout = TimeSpan.FromSeconds(e.TimeoutSeconds),
                Retries = e.Retries,
                InsecureSkipVerify = e.InsecureSkipVerify,
                CaFile = e.CaFile,
                MaxFileBytes = (long)(e.MaxFileMb * (1 << 20)),
                MaxFiles = e.MaxFiles,
                SpoolMaxBytes = (long)(e.SpoolMaxMb * (1 << 20)),
            };
            Validate(settings, $"sinks[{i}]");
            sinks.Add(settings);
        }
        foreach (var text in commandLine)
        {
            var parsed = SinkFactory.Parse(text, "");
            var settings = parsed with { Name = Unique(null, parsed.Kind), MinimumSeverity = config.MinimumSeverity };
            Validate(settings, $"--sink {text}");
            sinks.Add(settings);
        }
        return sinks;
    }

    private static WebhookFormat FormatOf(string? text, SinkKind kind, string where)
    {
        if (text is null)
            return WebhookFormat.Array;
        if (kind != SinkKind.Webhook)
            throw new InvalidDataException($"{where}: only a webhook sink takes a format (array, ndjson, object)");
        return text.ToLowerInvariant() switch
        {
            "array" or "json" => WebhookFormat.Array,
            "ndjson" => WebhookFormat.Ndjson,
            "object" or "single" => WebhookFormat.OnePerRequest,
            _ => throw new InvalidDataException($"{where}: '{text}' is not a webhook format (array, ndjson, object)"),
        };
    }

    /// <summary>URLs parse and name a scheme the kind speaks; HEC has a token.</summary>
    private static void Validate(SinkSettings s, string where)
    {
        switch (s.Kind)
        {
            case SinkKind.Webhook or SinkKind.Hec or SinkKind.Elasticsearch:
                if (!Uri.TryCreate(s.Target, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    throw new InvalidDataException($"{where}: '{s.Target}' is not an http:// or https:// URL");
                if (s.Kind == SinkKind.Hec && string.IsNullOrEmpty(s.Token))
                    throw new InvalidDataException($"{where}: Splunk HEC needs a token (token: in the sink, or IMDSWATCH_HEC_TOKEN)");
                break;
            case SinkKind.Syslog:
                _ = SyslogTarget.ParseUrl(s.Target);
                break;
        }
    }
}
