using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Indicators;
using ImdsWatch.Scanning;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Cli.Validation;

/// <summary>
/// Runs each test inside the lab's namespace between two marker execs, scans the capture once, and gives each
/// test the alerts and records whose audit serials fall between its markers.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ValidationRunner(ValidationLab lab, TextWriter log)
{
    public const int RefusedExitCode = 97;
    private const string BeginMarker = "imdswatch-validate-begin";
    private const string EndMarker = "imdswatch-validate-end";

    public IReadOnlyList<TestVerdict> Run(IReadOnlyList<ValidationTest> tests, CancellationToken cancellation)
    {
        var runner = WriteRunnerScript();
        var raw = new List<(ValidationTest Test, Shell.Result? Result, string? Skip)>();
        foreach (var test in tests)
        {
            cancellation.ThrowIfCancellationRequested();
            var missing = test.Requires.Where(r => Shell.Which(r) is null).ToList();
            if (missing.Count > 0)
            {
                raw.Add((test, null, $"needs {string.Join(", ", missing)} (not installed)"));
                continue;
            }
            File.WriteAllText(Path.Combine(lab.RunDirectory, "tests", test.Id + ".sh"), test.Command.Replace("\r\n", "\n", StringComparison.Ordinal));
            log.WriteLine($"  running {test.Id}");
            var result = Shell.Run("ip", ["netns", "exec", lab.Namespace, "/bin/sh", runner, test.Id], TimeSpan.FromSeconds(90),
                new Dictionary<string, string> { ["WORK"] = lab.WorkDirectory, ["HOME"] = lab.WorkDirectory }, cancellation);
            cancellation.ThrowIfCancellationRequested();
            if (result.ExitCode == RefusedExitCode)
                throw new ValidationSetupException($"test {test.Id} refused to run: {result.Stderr.Trim()}");
            raw.Add((test, result, null));
        }

        // A last marker: once it is in the log, everything before it has been written.
        Shell.Run("ip", ["netns", "exec", lab.Namespace, "/bin/true", EndMarker, "done"], cancellation: CancellationToken.None);
        WaitForMarker("done");
        lab.CollectCapture();

        var source = new InputSource(lab.CaptureFile, lab.CaptureFile);
        var scan = new AuditLogScanner(DetectionRules.Default).Scan([source], cancellation);
        var events = AuditLogScanner.ReadEvents(source);
        var windows = Windows(events);

        var verdicts = new List<TestVerdict>();
        foreach (var (test, result, skip) in raw)
        {
            if (skip is not null)
            {
                verdicts.Add(new TestVerdict(test, Outcome.Skip, skip, [], [], 0, ""));
                continue;
            }
            if (!windows.TryGetValue(test.Id, out var window))
            {
                verdicts.Add(new TestVerdict(test, Outcome.Fail, "its begin/end markers are not in the audit log (were records lost?)", [], [], result!.ExitCode, result.Stdout + result.Stderr));
                continue;
            }
            var inWindow = scan.Alerts.Where(a => a.Evidence.Select(Serial).Where(s => s > 0).DefaultIfEmpty(0UL).Min() is var s && s > window.Begin && s < window.End).ToList();
            var observed = Observed(events.Where(e => e.Sequence > window.Begin && e.Sequence < window.End).ToList());
            var (outcome, reason) = Judge(test, inWindow);
            verdicts.Add(new TestVerdict(test, outcome, reason, observed, inWindow, result!.ExitCode, result.Stdout + result.Stderr));
        }
        return verdicts;
    }

    private string WriteRunnerScript()
    {
        Directory.CreateDirectory(Path.Combine(lab.RunDirectory, "tests"));
        var path = Path.Combine(lab.RunDirectory, "run-test.sh");
        File.WriteAllText(path, $$"""
            #!/bin/sh
            # imdswatch validate: runs one test, but only inside its own namespace.
            ns=$(ip netns identify $$ 2>/dev/null)
            if [ "$ns" != "{{lab.Namespace}}" ]; then
                echo "refusing: this shell is in namespace '$ns', not {{lab.Namespace}}" >&2; exit {{RefusedExitCode}}
            fi
            if ! ip -o addr show dev lo | grep -q ' 169.254.169.254/32'; then
                echo "refusing: the metadata address is not on this namespace's loopback" >&2; exit {{RefusedExitCode}}
            fi
            if [ "$(ip -o link | wc -l)" != 1 ] || [ -n "$(ip route show default)" ]; then
                echo "refusing: this namespace has a way out (another interface or a default route)" >&2; exit {{RefusedExitCode}}
            fi
            cd "$WORK" || exit 1
            /bin/true {{BeginMarker}} "$1"
            timeout -k 5 60 /bin/sh "{{lab.RunDirectory}}/tests/$1.sh"
            rc=$?
            /bin/true {{EndMarker}} "$1"
            exit $rc

            """);
        return path;
    }

    private void WaitForMarker(string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            lab.CollectCapture();
            if (File.Exists(lab.CaptureFile) && File.ReadLines(lab.CaptureFile).Any(l => l.Contains(EndMarker, StringComparison.Ordinal) || l.Contains(Convert.ToHexString(System.Text.Encoding.ASCII.GetBytes(EndMarker)), StringComparison.Ordinal)))
            {
                var events = AuditLogScanner.ReadEvents(new InputSource(lab.CaptureFile, lab.CaptureFile));
                if (events.OfType<ProcessExec>().Any(e => IsMarker(e, EndMarker, id)))
                    return;
            }
            Thread.Sleep(250);
        }
        throw new ValidationSetupException("the audit log never showed the final marker: is auditd writing?");
    }

    private static Dictionary<string, (ulong Begin, ulong End)> Windows(List<HostEvent> events)
    {
        var begins = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var windows = new Dictionary<string, (ulong, ulong)>(StringComparer.Ordinal);
        foreach (var e in events.OfType<ProcessExec>())
        {
            if (e.Process.Args.Count < 3)
                continue;
            if (IsMarker(e, BeginMarker, null))
                begins[e.Process.Args[2]] = e.Sequence;
            else if (IsMarker(e, EndMarker, null) && begins.TryGetValue(e.Process.Args[2], out var b))
                windows[e.Process.Args[2]] = (b, e.Sequence);
        }
        return windows;
    }

    private static bool IsMarker(ProcessExec e, string marker, string? id) =>
        e.Process.Args.Count >= 3 && e.Process.Args[1] == marker && (id is null || e.Process.Args[2] == id);

    private static ulong Serial(EvidenceItem e) =>
        e.RecordId.StartsWith("audit:", StringComparison.Ordinal) && ulong.TryParse(e.RecordId.AsSpan(6), out var s) ? s : 0;

    /// <summary>A line per notable record: execs naming an endpoint and connects to one.</summary>
    private static List<string> Observed(List<HostEvent> events)
    {
        var catalog = IndicatorCatalog.Default;
        var finder = DetectionRules.Default.Finder;
        var lines = new List<string>();
        var execs = events.OfType<ProcessExec>().Count(e => e.Success);
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
        distinct.Insert(0, string.Create(CultureInfo.InvariantCulture, $"{execs} exec(s) in all"));
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
        (x.AlertType is null || x.AlertType == a.AlertType)
        && (x.Access is null || x.Access == a.Access.ToWire())
        && x.Layers.All(a.Layers.Contains)
        && (x.Process is null || Path.GetFileName(a.Process.Executable ?? a.Process.Name ?? "") == x.Process)
        && x.Tags.All(a.Tags.Contains)
        && (x.MinSeverity is null || a.Severity >= Enum.Parse<Severity>(x.MinSeverity, ignoreCase: true));

    private static string Describe(Alert a) =>
        $"{a.AlertType} {a.Access.ToWire()} {string.Join('+', a.Layers)} {Path.GetFileName(a.Process.Executable ?? "?")} [{string.Join(',', a.Tags)}]";
}
