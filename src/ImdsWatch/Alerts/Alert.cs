using System.Net;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Alerts;

/// <summary>One metadata-service access by one process image, with all the evidence for it.</summary>
public sealed record Alert : IObservedEvent
{
    /// <summary>Stable across re-scans of the same records (host, process, serial, rule).</summary>
    public required string Id { get; init; }

    public required DateTimeOffset Timestamp { get; init; }
    public required string RuleId { get; init; }
    public required string RuleName { get; init; }
    public required AlertType AlertType { get; init; }
    public required AccessClass Access { get; init; }
    public required Severity Severity { get; init; }
    public required int RiskScore { get; init; }
    public IReadOnlyList<string> RiskReasons { get; init; } = [];
    public required string? Host { get; init; }
    public required ProcessSnapshot Process { get; init; }
    public ProcessSnapshot? Parent { get; init; }

    /// <summary>Parent, grandparent, … as far as the log shows them.</summary>
    public IReadOnlyList<ProcessSnapshot> Ancestors { get; init; } = [];
    public IPAddress? DestinationIp { get; init; }
    public int? DestinationPort { get; init; }
    public string? Url { get; init; }
    public string? CloudProvider { get; init; }

    /// <summary>The role or service account whose credentials the request named (security-credentials/ROLE).</summary>
    public string? CredentialRole { get; init; }
    public string? EndpointId { get; init; }

    /// <summary>The program as baselines know it: executable, interpreter + script, or one-liner code.</summary>
    public string? ProgramKey { get; init; }
    public IReadOnlyList<Layer> Layers { get; init; } = [];
    public IReadOnlyList<EvidenceItem> Evidence { get; init; } = [];
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>No baseline has seen this program or user reach the service before.</summary>
    public bool FirstSeen { get; init; }

    public string? Outcome { get; init; }

    /// <summary>For anomaly alerts: the one-sentence reason, with the numbers behind the score.</summary>
    public string? Explanation { get; init; }

    /// <summary>For alerts from cloud logs: the identity and calls behind them.</summary>
    public CloudContext? Cloud { get; init; }

    /// <summary>For alerts from web logs: the client that sent the request.</summary>
    public string? Source { get; init; }

    /// <summary>For alerts from web logs: the request (an answered one when there is one).</summary>
    public HttpExchange? Http { get; init; }

    /// <summary>For anomaly alerts: how rare, 0-100.</summary>
    public int? AnomalyScore { get; init; }
    public required string Summary { get; init; }

    public const string TechniqueId = "T1552.005";

    EvidenceRef IObservedEvent.Evidence => Evidence.Count > 0
        ? new EvidenceRef(Evidence[0].File, Evidence[0].Line, Evidence[0].RecordId)
        : new EvidenceRef("", 0, Id);
}
