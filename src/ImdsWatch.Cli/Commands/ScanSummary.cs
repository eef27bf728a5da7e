using System.Globalization;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Cli.Commands;

/// <summary>The scan summary on standard error: what was read, what was found, what was set aside and why.</summary>
internal static class ScanSummary
{
    public static void Write(ScanResult r, TextWriter err, bool verbose)
    {
        var seconds = Math.Max(r.Elapsed.TotalSeconds, 1e-6);
        var mb = r.Bytes / 1e6;
        err.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"imdswatch: {r.Files.Count} file(s), {mb:0.0} MB, {r.Lines} lines, {r.Records} records, {r.Events} events in {seconds:0.00}s ({mb / seconds:0.0} MB/s)"));
        if (verbose && r.RecordsParsed < r.Records)
            err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"imdswatch: prefilter: {r.RecordsParsed} of {r.Records} audit records parsed fully, the rest ruled out by pass one"));
        if (r.Formats.Count > 1 || r.Formats.Keys.Any(f => f != Sources.Input.LogFormat.Auditd))
            err.WriteLine($"imdswatch: formats: {string.Join(", ", r.Formats.OrderBy(kv => kv.Key).Select(kv => $"{kv.Value} {kv.Key.ToString().ToLowerInvariant()}"))}"
                + (r.ApiCalls > 0 ? $"; {r.ApiCalls} CloudTrail call(s)" : "") + (r.HttpRequests > 0 ? $"; {r.HttpRequests} web request(s)" : ""));
        var tally = r.Tally;
        var bySeverity = string.Join(", ", Enum.GetValues<Severity>().Reverse().Where(s => s >= tally.Minimum)
            .Select(s => (s, n: tally.BySeverity(s))).Where(x => x.n > 0)
            .Select(x => $"{x.n} {x.s.ToString().ToLowerInvariant()}"));
        err.WriteLine($"imdswatch: {tally.Reported} alert(s){(bySeverity.Length > 0 ? $" ({bySeverity})" : "")}"
            + (tally.Reported < tally.Total ? $"; {tally.Total - tally.Reported} below --min-severity not shown" : ""));
        var d = r.Detection;
        err.WriteLine($"imdswatch: {d.Execs} exec(s), {d.Connects} outbound address(es), {d.MetadataConnects} to a metadata endpoint");
        if (d.Evicted.Count > 0)
            err.WriteLine($"imdswatch: state held at its bounds: {string.Join(", ", d.Evicted.Select(kv => $"{kv.Key} ×{kv.Value}"))} (an image that kept connecting may show as more than one alert)");
        if (d.AllowedByAgent.Count > 0)
            err.WriteLine($"imdswatch: allowed as cloud agents: {string.Join(", ", d.AllowedByAgent.Select(kv => $"{TerminalText.Escape(kv.Key)} ×{kv.Value}"))}");
        if (d.Mentions > 0)
        {
            err.WriteLine($"imdswatch: {d.Mentions} command(s) only mention a metadata address (not an access){(verbose ? ":" : "; --verbose lists them")}");
            if (verbose)
            {
                foreach (var m in d.MentionSamples)
                    err.WriteLine($"  {TerminalText.Escape(m)}");
            }
        }
        if (r.LateRecords > 0)
            err.WriteLine($"imdswatch: {r.LateRecords} record(s) arrived after their event was complete and were read on their own");
        if (r.CloudTrail is { } ct)
        {
            var bounds = ct.Evicted.Where(kv => kv.Value > 0).Select(kv => $"{kv.Value} {kv.Key} let go at the bound (judged first)")
                .Append(ct.EvidenceNotKept > 0 ? $"{ct.EvidenceNotKept} call(s) not kept as evidence (counted)" : "")
                .Append(ct.OutOfOrder > 0 ? $"{ct.OutOfOrder} call(s) more than 20 minutes behind newer ones (read out of time order)" : "").Where(x => x.Length > 0).ToList();
            if (bounds.Count > 0)
                err.WriteLine($"imdswatch: cloudtrail: {string.Join("; ", bounds)}");
        }
        if (r.IssueCount > 0)
        {
            err.WriteLine($"imdswatch: {r.IssueCount} line(s) could not be read as audit records and were skipped:");
            foreach (var issue in r.Issues.Take(verbose ? r.Issues.Count : 10))
                err.WriteLine($"  {issue}");
            if (!verbose && r.IssueCount > 10)
                err.WriteLine($"  … and {r.IssueCount - 10} more (--verbose lists up to {Pipeline.DetectionPipeline.MaxIssueDetails})");
        }
    }
}
