using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Cli.Validation;
using ImdsWatch.Indicators;
using Spectre.Console;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// <c>imdswatch validate</c>: fire the atomic tests at an emulated metadata service in a private network
/// namespace, capture what the kernel records, run the detection on it, and give a verdict per test.
/// </summary>
public static class ValidateCommand
{
    private static readonly string[] RequiredPrograms = ["ip", "auditctl", "auditd", "timeout"];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var keep = new Option<string?>("--keep") { Description = "Keep the capture (audit.log), emulator log and test output in this directory" };
        var json = new Option<bool>("--json") { Description = "Print the verdicts as JSON" };
        var wide = new Option<bool>("--wide") { Description = "The detailed table: expected signal, every observed record and alert" };
        var format = new Option<string>("--log-format") { Description = "raw | enriched: the audit log format to capture in (own auditd only)", DefaultValueFactory = _ => "enriched" };
        format.AcceptOnlyFromAmong("raw", "enriched");
        var tests = new Option<string[]>("--tests") { Description = "More tests from a YAML file (same format as the built-in ones)" };
        var only = new Option<string[]>("--only") { Description = "Run only these test ids", AllowMultipleArgumentsPerToken = true };
        var command = new Command("validate", "Prove detection live: atomic tests against an emulated metadata service, real kernel audit records, a verdict per test (needs root)")
        {
            keep, json, wide, format, tests, only,
        };
        command.SetAction(parse => Run(parse.GetValue(keep), parse.GetValue(json), parse.GetValue(wide), parse.GetValue(format)!, parse.GetValue(tests) ?? [], parse.GetValue(only) ?? [], stdout, stderr));
        return command;
    }

    private static int Run(string? keep, bool json, bool wide, string logFormat, string[] testFiles, string[] only, TextWriter stdout, TextWriter stderr)
    {
        if (!OperatingSystem.IsLinux())
        {
            stderr.WriteLine("imdswatch validate: needs Linux (network namespaces and the kernel audit subsystem)");
            return ExitCodes.Usage;
        }
        if (CheckPreconditions(Environment.IsPrivilegedProcess, Shell.Which) is { } problem)
        {
            stderr.WriteLine($"imdswatch validate: {problem}");
            return ExitCodes.Usage;
        }

        List<ValidationTest> suite;
        try
        {
            suite = ValidationTest.BuiltIn();
            foreach (var f in testFiles)
                suite.AddRange(ValidationTest.Parse(File.ReadAllText(f), f));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or YamlDotNet.Core.YamlException)
        {
            stderr.WriteLine($"imdswatch validate: {e.Message}");
            return ExitCodes.Usage;
        }
        if (only.Length > 0)
        {
            var unknown = only.Where(id => suite.All(t => t.Id != id)).ToList();
            if (unknown.Count > 0)
            {
                stderr.WriteLine($"imdswatch validate: no test named {string.Join(", ", unknown)}");
                return ExitCodes.Usage;
            }
            suite = suite.Where(t => only.Contains(t.Id)).ToList();
        }

        var before = SystemState.Capture();
        // SIGINT/SIGTERM through Interrupts (Main): the run stops, the lab is taken down, then 130/143.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Interrupts.Token);

        var runDirectory = keep is not null ? Path.GetFullPath(keep) : Directory.CreateTempSubdirectory("imdswatch-validate-").FullName;
        IReadOnlyList<TestVerdict> verdicts;
        IReadOnlyList<int> started = [];
        stderr.WriteLine("imdswatch validate: setting up");
        try
        {
            using var lab = ValidationLab.Create(runDirectory, keep is not null, logFormat, stderr);
            started = lab.StartedPids;
            verdicts = new ValidationRunner(lab, stderr).Run(suite, cancel.Token);
            stderr.WriteLine("imdswatch validate: restoring");
        }
        catch (OperationCanceledException)
        {
            var signal = Interrupts.Received ?? PosixSignal.SIGTERM;
            stderr.WriteLine($"imdswatch validate: {(signal == PosixSignal.SIGINT ? "interrupted" : "terminated")} by {Interrupts.Name(signal)}; everything it changed has been restored");
            return Interrupts.ExitCode(signal);
        }
        catch (ValidationSetupException e)
        {
            stderr.WriteLine($"imdswatch validate: {e.Message}");
            return ExitCodes.AlertsOrFailures;
        }
        finally
        {
            if (keep is null && Directory.Exists(runDirectory))
                Directory.Delete(runDirectory, recursive: true);
        }

        var after = SystemState.Capture();
        var leftovers = before.Differences(after, started);
        if (json)
            WriteJson(verdicts, leftovers, stdout);
        else if (wide)
            WriteWideTable(verdicts, stdout);
        else
            WriteTable(verdicts, TableConsole.For(stdout));
        foreach (var l in leftovers)
            stderr.WriteLine($"imdswatch validate: NOT RESTORED: {l}");
        var failed = verdicts.Count(v => v.Outcome == Outcome.Fail);
        stderr.WriteLine($"imdswatch validate: {verdicts.Count(v => v.Outcome == Outcome.Pass)} passed, {failed} failed, {verdicts.Count(v => v.Outcome == Outcome.Skip)} skipped"
            + (keep is not null ? $"; capture kept in {runDirectory}" : ""));
        if (leftovers.Count == 0)
            stderr.WriteLine("imdswatch validate: audit rules, namespaces and processes are as they were");
        return failed > 0 || leftovers.Count > 0 ? ExitCodes.AlertsOrFailures : ExitCodes.Ok;
    }

    /// <summary>Why validate cannot run here, or null.</summary>
    internal static string? CheckPreconditions(bool root, Func<string, string?> which)
    {
        if (!root)
            return "needs root (it creates a network namespace and audit rules). Run it with sudo.";
        var missing = RequiredPrograms.Where(p => which(p) is null).ToList();
        return missing.Count > 0 ? $"needs {string.Join(", ", missing)} (Debian: apt-get install auditd iproute2 coreutils)" : null;
    }

    /// <summary>One line per test at the console's width: id, verdict, alerts raised, what was seen, why.</summary>
    internal static void WriteTable(IReadOnlyList<TestVerdict> verdicts, IAnsiConsole console)
    {
        string[] header = ["TEST", "VERDICT", "ALERTS RAISED", "OBSERVED", "WHY / WHAT"];
        var rows = verdicts.Select(v => new[]
        {
            TerminalText.Escape(v.Test.Id),
            v.Outcome.ToString().ToUpperInvariant(),
            v.Alerts.Count == 0 ? "none"
                : (v.Alerts.Count > 1 ? $"({v.Alerts.Count}) " : "") // the count first: the rest may be cut
                    + $"{TableAlertWriter.ShortName(v.Alerts[0].AlertType)} {v.Alerts[0].Access.ToWire()} {v.Alerts[0].Severity.ToString().ToLowerInvariant()} {v.Alerts[0].RiskScore}",
            v.Observed.Count == 0 ? "nothing" : TerminalText.Escape(v.Observed[0]),
            TerminalText.Escape(v.Outcome == Outcome.Pass ? v.Test.Title : v.Reason),
        }).ToList();
        var layout = LineLayout.Fit([header, .. rows], [8, 7, 12, 8, 10], console.Profile.Width, [1, 1, 1, 0.7, 2]); // why a test failed matters most
        console.MarkupLine($"[bold]{Markup.Escape(string.Join(layout.Gap, layout.Cells(header)))}[/]");
        for (var i = 0; i < rows.Count; i++)
        {
            var cells = layout.Cells(rows[i]);
            var style = verdicts[i].Outcome switch { Outcome.Pass => "green", Outcome.Fail => "bold red", _ => "grey" };
            console.MarkupLine($"{Markup.Escape(cells[0])}{layout.Gap}[{style}]{Markup.Escape(cells[1])}[/]{layout.Gap}{Markup.Escape(string.Join(layout.Gap, cells.Skip(2)))}");
        }
    }

    private static void WriteWideTable(IReadOnlyList<TestVerdict> verdicts, TextWriter stdout)
    {
        var console = TableConsole.For(stdout);
        var table = new Table().Border(TableBorder.Rounded).Expand();
        table.AddColumn("Test");
        table.AddColumn("Expected signal");
        table.AddColumn("Observed records");
        table.AddColumn("Alerts raised");
        table.AddColumn("Verdict");
        foreach (var v in verdicts)
        {
            var alerts = v.Alerts.Count == 0 ? "none"
                : string.Join("\n", v.Alerts.Select(a => $"{a.AlertType} {a.Access.ToWire()} {a.Severity.ToString().ToLowerInvariant()} {a.RiskScore}"));
            var verdict = v.Outcome switch
            {
                Outcome.Pass => "[green]PASS[/]",
                Outcome.Fail => $"[red]FAIL[/]\n{Markup.Escape(v.Reason)}",
                _ => $"[grey]SKIP[/]\n{Markup.Escape(v.Reason)}",
            };
            table.AddRow(new Markup($"[bold]{Markup.Escape(v.Test.Id)}[/]\n{Markup.Escape(v.Test.Title)}"), new Text(v.Test.Signal),
                new Text(string.Join("\n", v.Observed)), new Text(alerts), new Markup(verdict));
        }
        console.Write(table);
    }

    private static void WriteJson(IReadOnlyList<TestVerdict> verdicts, IReadOnlyList<string> leftovers, TextWriter stdout)
    {
        var doc = new JsonObject
        {
            ["tests"] = JsonNodes.Array(verdicts.Select(v => new JsonObject
            {
                ["id"] = v.Test.Id,
                ["title"] = v.Test.Title,
                ["expected_signal"] = v.Test.Signal,
                ["observed"] = JsonNodes.Array(v.Observed),
                ["alerts"] = JsonNodes.Array(v.Alerts.Select(a => new JsonObject { ["id"] = a.Id, ["alert_type"] = a.AlertType.ToString(), ["access"] = a.Access.ToWire(), ["severity"] = a.Severity.ToString().ToLowerInvariant(), ["risk_score"] = a.RiskScore, ["layers"] = JsonNodes.Array(a.Layers.Select(l => l.ToWire())), ["tags"] = JsonNodes.Array(a.Tags), ["summary"] = a.Summary })),
                ["verdict"] = v.Outcome.ToString().ToUpperInvariant(),
                ["reason"] = v.Reason,
                ["exit_code"] = v.ExitCode,
            })),
            ["not_restored"] = JsonNodes.Array(leftovers),
        };
        stdout.WriteLine(doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
