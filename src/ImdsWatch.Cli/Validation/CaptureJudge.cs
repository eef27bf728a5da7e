using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Config;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Indicators;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Cli.Validation;

/// <summary>
/// Gives each test of a capture its verdict: the alerts and records whose audit serials fall between the
/// test's begin and end marker execs, judged against what the test expects. Used live by validate and on
/// the bundled samples by the tests.
/// </summary>
public static class CaptureJudge
{
    public const string BeginMarker = "imdswatch-validate-begin";
    public const string EndMarker = "imdswatch-validate-end";

    public static bool IsMarker(ProcessExec e, string marker, string? id) =>
        e.Process.Args.Count >= 3 && e.Process.Args[1] == marker && (id is null || e.Process.Args[2] == id);

    public static IReadOnlyList<TestVerdict> Judge(string capture, IEnumerable<(ValidationTest Test, Shell.Result? Result, string? Skip)> runs,
        CancellationToken cancellation = default)
    {
        var source = new InputSource(capture, capture);
        var events = new List<HostEvent>();
        var scan = (EffectiveConfig.Default with { Prefilter = false }).Pipeline(onEvent: e =>
        {
            if (e is HostEvent h and not SessionEvent)
                events.Add(h);
        }).Scan([source], cancellation);
        var windows = Windows(events);

        var verdicts = new List<TestVerdict>();
        foreach (var (test, result, skip) in runs)
        {
            var exit = result?.ExitCode ?? 0;
            var output = result is null ? "" : result.Stdout + result.Stderr;
            if (skip is not null)
            {
                verdicts.Add(new TestVerdict(test, Outcome.Skip, skip, [], [], 0, ""));
                continue;
            }
            if (!windows.TryGetValue(test.Id, out var window))
            {
                verdicts.Add(new TestVerdict(test, Outcome.Fail, "its begin/end markers are not in the audit log (were records lost?)", [], [], exit, output));
                continue;
            }
            var inWindow = scan.Alerts.Where(a => FirstSerial(a) is var s && s > window.Begin && s < window.End).ToList();
            var observed = Observed(events.Where(e => e.Sequence > window.Begin && e.Sequence < window.End).ToList());
            var (outcome, reason) = Judge(test, inWindow);
            verdicts.Add(new TestVerdict(test, outcome, reason, observed, inWindow, exit, output));
        }
        return verdicts;
    }

    public static IReadOnlyList<TestVerdict> Judge(string capture, IEnumerable<ValidationTest> tests) =>
        Judge(capture, tests.Select(t => (t, (Shell.Result?)null, (string?)null)));

    private static Dictionary<string, (ulong Begin, ulong End)> Windows(List<HostEvent> events)
    {
        var begins = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var windows = new Dictionary<string, (ulong, ulong)>(StringComparer.Ordinal);
        foreach (var e in events.OfType<ProcessExec>())
        {
            if (IsMarker(e, BeginMarker, null))
                begins[e.Process.Args[2]] = e.Sequence;
            else if (IsMarker(e, EndMarker, null) && begins.TryGetValue(e.Process.Args[2], out var b))
                windows[e.Process.Args[2]] = (b, e.Sequence);
        }
        return windows;
    }

    private static ulong FirstSerial(Alert a) =>
        a.Evidence.Select(e => e.RecordId.StartsWith("audit:", StringComparison.Ordinal) && ulong.TryParse(e.RecordId.AsSpan(6), out var s) ? s : 0)
            .Where(s => s > 0).DefaultIfEmpty(0UL).Min();

    /// <summary>A line per notable record: execs naming an endpoint and connects to one.</summary>
    private static List<string> Observed(List<HostEvent> events)
    {
        var catalog = IndicatorCatalog.Default;
        var finder = DetectionRules.Default.Finder;
        var lines = new List<string>();
        foreach (var e in events)
        {
            switch (e)
            {
                case ProcessExec x when x.Success && x.Process.Args.Any(a => finder.Find(a).Count > 0):
                    lines.Add($"EXECVE {Path.GetFileName(x.Process.Executable ?? "?")} (uid {x.Process.User.Uid})");
                    break;
                case NetworkConnect c when catalog.MatchAddress(c.Destination) is not null:
                    lines.Add($"{c.Syscall} {Path.GetFileName(c.Process.Executable ?? "?")} → {c.Destination}:{c.Port} ({c.Outcome.ToString().ToLowerInvariant()})");
                    break;
            }
        }
        var distinct = lines.GroupBy(l => l).Select(g => g.Count() > 1 ? $"{g.Key} ×{g.Count()}" : g.Key).ToList();
        distinct.Insert(0, string.Create(CultureInfo.InvariantCulture, $"{events.OfType<ProcessExec>().Count(e => e.Success)} exec(s) in all"));
        return distinct;
    }

    internal static (Outcome, string) Judge(ValidationTest test, IReadOnlyList<Alert> alerts)
    {
        if (test.ExpectNone)
        {
            return alerts.Count == 0
                ? (Outcome.Pass, "no alert, as expected")
                : (Outcome.Fail, $"expected no alert, got {string.Join("; ", alerts.Select(a => a.Summary))}");
        }
        var missing = test.Expect.Where(x => !alerts.Any(a => Matches(x, a))).ToList();
        return missing.Count == 0
            ? (Outcome.Pass, $"{alerts.Count} alert(s), all expectations met")
            : (Outcome.Fail, $"no alert matched: {string.Join("; ", missing)} (got {(alerts.Count == 0 ? "none" : string.Join("; ", alerts.Select(Describe)))})");
    }

    private static bool Matches(ExpectedAlert x, Alert a) =>
        (x.AlertType is null || x.AlertType == a.AlertType.ToString())
        && (x.Access is null || x.Access == a.Access.ToWire())
        && x.Layers.All(l => a.Layers.Any(y => y.ToWire() == l))
        && (x.Process is null || Path.GetFileName(a.Process.Executable ?? a.Process.Name ?? "") == x.Process)
        && x.Tags.All(a.Tags.Contains)
        && (x.MinSeverity is null || a.Severity >= Enum.Parse<Severity>(x.MinSeverity, ignoreCase: true));

    private static string Describe(Alert a) =>
        $"{a.AlertType} {a.Access.ToWire()} {string.Join('+', a.Layers.Select(l => l.ToWire()))} {Path.GetFileName(a.Process.Executable ?? "?")} [{string.Join(',', a.Tags)}]";
}
