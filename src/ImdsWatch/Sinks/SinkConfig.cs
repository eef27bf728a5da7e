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
            // Each mistake names its file and line (the key's, else the entry's), like the schema's mistakes.
            string At(string key) => $"{e.Place(key)}sinks[{i}].{key}";
            var kind = SinkFactory.KindOf(e.Type, At("type"));
            var target = kind == SinkKind.File ? e.Path ?? e.Url : e.Url;
            if (kind != SinkKind.Stdout && string.IsNullOrWhiteSpace(target))
                throw new InvalidDataException($"{e.Place()}sinks[{i}] ({e.Type}): {(kind == SinkKind.File ? "path" : "url")}: is required");
            Positive(e.BatchSize, At("batch_size"));
            Positive(e.BatchMaxMb, At("batch_max_mb"));
            Positive(e.TimeoutSeconds, At("timeout_seconds"));
            Positive(e.SpoolMaxMb, At("spool_max_mb"));
            Positive(e.MaxFileMb, At("max_file_mb"));
            if (e.Retries < 0)
                throw new InvalidDataException($"{At("retries")}: must be 0 or more (got {e.Retries})");
            if (e.MaxFiles < 0)
                throw new InvalidDataException($"{At("max_files")}: must be 0 or more (got {e.MaxFiles})");
            if (e.LingerMs is < 0 or > 10_000)
                throw new InvalidDataException($"{At("linger_ms")}: must be between 0 and 10000");
            var settings = new SinkSettings
            {
                Kind = kind,
                Target = target,
                Name = Unique(e.Name, kind),
                MinimumSeverity = e.MinSeverity is null ? config.MinimumSeverity : EffectiveConfig.ParseSeverity(e.MinSeverity, At("min_severity")),
                Headers = e.Headers,
                Token = e.Token ?? (kind == SinkKind.Hec ? Environment.GetEnvironmentVariable("IMDSWATCH_HEC_TOKEN") : null),
                Index = e.Index,
                SourceType = e.Sourcetype ?? "imdswatch:alert",
                BatchSize = e.BatchSize,
                BatchMaxBytes = (long)(e.BatchMaxMb * (1 << 20)),
                Linger = TimeSpan.FromMilliseconds(e.LingerMs),
                WebhookFormat = FormatOf(e.Format, kind, At("format")),
                Timeout = TimeSpan.FromSeconds(e.TimeoutSeconds),
                Retries = e.Retries,
                InsecureSkipVerify = e.InsecureSkipVerify,
                CaFile = e.CaFile,
                MaxFileBytes = (long)(e.MaxFileMb * (1 << 20)),
                MaxFiles = e.MaxFiles,
                SpoolMaxBytes = (long)(e.SpoolMaxMb * (1 << 20)),
            };
            Validate(settings, $"{e.Place(kind == SinkKind.File ? "path" : "url")}sinks[{i}]");
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

    private static void Positive(double value, string where)
    {
        if (!(value > 0))
            throw new InvalidDataException($"{where}: must be positive (got {value.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
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
