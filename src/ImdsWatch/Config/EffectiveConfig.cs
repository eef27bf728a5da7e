using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Detection;
using ImdsWatch.Detection.Cloud;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Config;

/// <summary>
/// The configuration a command runs with, built once from the YAML file and the command-line flags (flags win):
/// every command that detects hands this to the pipeline, so all of them honour the same keys.
/// </summary>
public sealed record EffectiveConfig
{
    public required DetectionRules Rules { get; init; }

    /// <summary>Host name for records that carry none.</summary>
    public string? Host { get; init; }

    public CloudTrailOptions Cloud { get; init; } = new();

    public AnomalyOptions Anomaly { get; init; } = new();

    public Severity MinimumSeverity { get; init; } = Severity.Low;

    public bool Prefilter { get; init; } = true;

    public static EffectiveConfig Default { get; } = new() { Rules = DetectionRules.Default };

    /// <summary>The file at <paramref name="configPath"/> (none: the defaults) with <paramref name="flags"/> on top.</summary>
    public static EffectiveConfig Build(string? configPath, ConfigFlags? flags = null)
    {
        var file = configPath is null ? new ImdsWatchConfig() : ImdsWatchConfig.Load(configPath);
        flags ??= new ConfigFlags();
        return new EffectiveConfig
        {
            Rules = file.BuildRules(),
            Host = flags.Host ?? file.Host,
            Cloud = file.CloudTrailOptions(flags.AwsIpRanges),
            Anomaly = file.AnomalyOptions(),
            MinimumSeverity = flags.MinSeverity is { } m ? ParseSeverity(m, "--min-severity") : file.MinimumSeverity,
            Prefilter = flags.Prefilter ?? true,
        };
    }

    /// <summary>The pipeline this configuration describes, with the learned baseline when there is one.</summary>
    public DetectionPipeline Pipeline(BaselineSnapshot? baseline = null, ScanHeap? heap = null,
        Action<long, InputSource>? progress = null, Action<IObservedEvent>? onEvent = null) =>
        new(Rules)
        {
            DefaultHost = Host,
            Cloud = Cloud,
            Anomaly = Anomaly,
            MinimumSeverity = MinimumSeverity,
            UsePrefilter = Prefilter,
            Baseline = baseline,
            Heap = heap,
            Progress = progress,
            OnEvent = onEvent,
        };

    public static Severity ParseSeverity(string text, string name) =>
        Enum.TryParse<Severity>(text, ignoreCase: true, out var s) && Enum.IsDefined(s) && !char.IsDigit(text[0])
            ? s
            : throw new InvalidDataException($"{name}: '{text}' is not one of low, medium, high, critical");
}

/// <summary>What the command line says on top of the configuration file (null: the file decides).</summary>
public sealed record ConfigFlags
{
    public string? Host { get; init; }
    public string? MinSeverity { get; init; }
    public string? AwsIpRanges { get; init; }
    public bool? Prefilter { get; init; }
}
