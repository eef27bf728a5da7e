using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;

namespace ImdsWatch.Cli.Validation;

/// <summary>
/// Runs each test inside the lab's namespace between two marker execs, then hands the capture to
/// <see cref="CaptureJudge"/>, which gives each test the alerts whose audit serials fall between its markers.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class ValidationRunner(ValidationLab lab, TextWriter log)
{
    public const int RefusedExitCode = 97;
    private const string BeginMarker = CaptureJudge.BeginMarker;
    private const string EndMarker = CaptureJudge.EndMarker;

    public IReadOnlyList<TestVerdict> Run(IReadOnlyList<ValidationTest> tests, CancellationToken cancellation)
    {
        var runner = WriteRunnerScript();
        var runs = new List<(ValidationTest Test, Shell.Result? Result, string? Skip)>();
        foreach (var test in tests)
        {
            cancellation.ThrowIfCancellationRequested();
            var missing = test.Requires.Where(r => Shell.Which(r) is null).ToList();
            if (missing.Count > 0)
            {
                runs.Add((test, null, $"needs {string.Join(", ", missing)} (not installed)"));
                continue;
            }
            File.WriteAllText(Path.Combine(lab.RunDirectory, "tests", test.Id + ".sh"), test.Command.Replace("\r\n", "\n", StringComparison.Ordinal));
            log.WriteLine($"  running {test.Id}");
            var result = Shell.Run("ip", ["netns", "exec", lab.Namespace, "/bin/sh", runner, test.Id], TimeSpan.FromSeconds(90),
                new Dictionary<string, string> { ["WORK"] = lab.WorkDirectory, ["HOME"] = lab.WorkDirectory }, cancellation);
            cancellation.ThrowIfCancellationRequested();
            if (result.ExitCode == RefusedExitCode)
                throw new ValidationSetupException($"test {test.Id} refused to run: {result.Stderr.Trim()}");
            runs.Add((test, result, null));
        }

        // A last marker: once it is in the log, everything before it has been written.
        Shell.Run("ip", ["netns", "exec", lab.Namespace, "/bin/true", EndMarker, "done"], cancellation: CancellationToken.None);
        WaitForMarker("done");
        lab.CollectCapture();
        return CaptureJudge.Judge(lab.CaptureFile, runs, cancellation);
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
            if (File.Exists(lab.CaptureFile)
                && DetectionPipeline.ReadEvents(new InputSource(lab.CaptureFile, lab.CaptureFile)).OfType<ProcessExec>().Any(e => CaptureJudge.IsMarker(e, EndMarker, id)))
                return;
            Thread.Sleep(250);
        }
        throw new ValidationSetupException("the audit log never showed the final marker: is auditd writing?");
    }
}
