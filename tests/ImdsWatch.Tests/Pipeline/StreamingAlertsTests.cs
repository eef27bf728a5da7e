using System.Globalization;
using System.Text;
using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Events;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Pipeline;

/// <summary>
/// Alerts leave for the sink as soon as they are final, so a scan holds a window of activity, not every alert; the
/// order they leave in is the same on every run and with or without the prefilter, and the counts are a full list's.
/// </summary>
public sealed class StreamingAlertsTests : IDisposable
{
    // 2026-11-24 10:00:00 UTC
    private const double T = 1795514400;
    private const string Url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/app-role";
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-streaming-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private InputSource Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return new InputSource(path, path);
    }

    /// <summary>
    /// <paramref name="count"/> credential fetches <paramref name="every"/> seconds apart: every third through
    /// <c>sh -c</c> (a wrapper that folds into the command's alert), every fifth with the connect of its curl.
    /// </summary>
    private static string Fetches(int count, double every, ulong firstSerial = 1000)
    {
        var log = new StringBuilder();
        var serial = firstSerial;
        for (var i = 0; i < count; i++)
        {
            var time = T + (i * every);
            var pid = 20_000 + (i * 3);
            if (i % 3 == 0)
            {
                log.Append(Exec(serial++, pid, "/usr/bin/sh", ["sh", "-c", "curl -s " + Url], time: time));
                log.Append(Exec(serial++, pid + 1, "/usr/bin/curl", ["curl", "-s", Url], ppid: pid, time: time + 0.01));
            }
            else
            {
                log.Append(Exec(serial++, pid, "/usr/bin/curl", ["curl", "-s", Url], time: time));
            }
            if (i % 5 == 0)
                log.Append(Connect(serial++, i % 3 == 0 ? pid + 1 : pid, "/usr/bin/curl", "169.254.169.254", time: time + 0.02));
        }
        return log.ToString();
    }

    private static string Ndjson(DetectionPipeline pipeline, IReadOnlyList<InputSource> inputs)
    {
        var output = new StringWriter();
        pipeline.Run(inputs, new WriterSink(new NdjsonAlertWriter(DateTimeOffset.UnixEpoch), output));
        return output.ToString();
    }

    [Fact]
    public void Alerts_reach_the_sink_while_the_log_is_read_and_wait_no_longer_than_the_window()
    {
        // 600 fetches a second apart: an activity is final once the fetches have moved 60 s (+ a sweep step) past it.
        var input = Write("fetches.log", Fetches(600, every: 1));
        var fetchesSeen = 0;
        var behind = new List<int>();
        var sink = new ActionSink(_ => behind.Add(fetchesSeen - behind.Count - 1));
        var pipeline = new DetectionPipeline(DetectionRules.Default)
        {
            UsePrefilter = false,
            OnEvent = e =>
            {
                if (e is ProcessExec { Process.Executable: "/usr/bin/curl" })
                    fetchesSeen++;
            },
        };

        var result = pipeline.Run([input], sink);

        Assert.Equal(600, result.Tally.Total);
        Assert.Equal(600, behind.Count);
        var whileReading = behind.Take(500).ToList();
        Assert.All(whileReading, held => Assert.InRange(held, 60, 63)); // held back: the window's fetches, never more
        Assert.Equal(0, behind[^1]); // the last ones at the end of the input
        Assert.Empty(result.Alerts); // Run keeps none
    }

    [Fact]
    public void The_ndjson_stream_is_the_same_with_and_without_the_prefilter_and_on_every_run()
    {
        var inputs = new List<InputSource>
        {
            Write("fetches.log", Fetches(400, every: 7)),
            Write("burst.log", Fetches(300, every: 0.05, firstSerial: 900_000)),
        };
        inputs.AddRange(new[] { "audit-enriched.log", "audit-raw.log.gz" }.Select(s => Path.Combine(Repo.Samples, s)).Select(p => new InputSource(p, p)));

        var full = Ndjson(new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }, inputs);
        var fast = Ndjson(new DetectionPipeline(DetectionRules.Default) { UsePrefilter = true, Workers = 2, PrefilterBlockSize = 4096 }, inputs);
        var again = Ndjson(new DetectionPipeline(DetectionRules.Default) { UsePrefilter = true }, inputs);
        var rulesThread = Ndjson(new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false, RulesThreadFrom = 0 }, inputs);

        Assert.True(full.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length > 700);
        Assert.Equal(full, fast);
        Assert.Equal(full, again);
        Assert.Equal(full, rulesThread);
    }

    [CorpusFact]
    public void Every_corpus_file_streams_the_same_alerts_in_the_same_order_with_and_without_the_prefilter()
    {
        var inputs = Directory.EnumerateFiles(Path.Combine(Repo.Corpora, "auditd"), "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".golden", StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).Select(f => new InputSource(f, f)).ToList();
        var full = Ndjson(new DetectionPipeline(DetectionRules.Default) { UsePrefilter = false }, inputs);
        Assert.Equal(full, Ndjson(new DetectionPipeline(DetectionRules.Default) { UsePrefilter = true }, inputs));
    }

    [Fact]
    public void The_stream_holds_the_alerts_scan_collects_and_the_tally_counts_them()
    {
        var inputs = new List<InputSource> { Write("fetches.log", Fetches(250, every: 13)) };
        inputs.AddRange(Directory.EnumerateFiles(Repo.Samples, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(p => new InputSource(p, p)));
        var pipeline = new DetectionPipeline(DetectionRules.Default) { MinimumSeverity = Severity.High };
        var streamed = new CollectingSink();

        var result = pipeline.Run(inputs, streamed);
        var all = pipeline.Scan(inputs).Alerts;

        Assert.Equal(all.Where(a => a.Severity >= Severity.High).Select(NdjsonAlertWriter.ToJson).Order(StringComparer.Ordinal),
            streamed.Alerts.Select(NdjsonAlertWriter.ToJson).Order(StringComparer.Ordinal));
        Assert.Equal(all.Count, result.Tally.Total);
        Assert.Equal(streamed.Alerts.Count, result.Tally.Reported);
        foreach (var severity in Enum.GetValues<Severity>())
            Assert.Equal(all.Count(a => a.Severity == severity), result.Tally.BySeverity(severity));
        foreach (var type in Enum.GetValues<AlertType>())
            Assert.Equal(all.Count(a => a.AlertType == type), result.Tally.ByType(type));
        Assert.True(all.Select(a => a.AlertType).Distinct().Count() >= 3); // more than one rule's alerts
        Assert.Equal(all.Count, all.Select(a => a.Id).Distinct().Count());
    }

    /// <summary>The events of an audit text, each its lines up to its EOE.</summary>
    private static List<string> Events(string text)
    {
        var events = new List<string>();
        var current = new StringBuilder();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            current.Append(line).Append('\n');
            if (line.Contains(" type=EOE ", StringComparison.Ordinal))
            {
                events.Add(current.ToString());
                current.Clear();
            }
        }
        return events;
    }

    /// <summary>What the detector alone raises when nothing is final before the end: the alerts of the past, unstreamed.</summary>
    private static List<string> Unstreamed(InputSource input)
    {
        var detector = new MetadataAccessDetector(DetectionRules.Default);
        foreach (var e in DetectionPipeline.ReadEvents(input).OfType<HostEvent>())
            detector.Observe(e);
        return [.. detector.CompleteAll().Alerts.Select(NdjsonAlertWriter.ToJson).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void Hosts_whose_clocks_are_a_day_apart_in_one_log_fold_as_if_nothing_streamed()
    {
        // Two hosts' fetches (wrappers, connects) interleaved event by event, host b's clock 100,000 s behind a's:
        // each host's activities are final by its own clock, so nothing of b is cut short by a's later time.
        var a = Events(Week.Nodes(Fetches(300, every: 2), "host-a"));
        var b = Events(Week.Nodes(Fetches(300, every: 2, firstSerial: 5_000), "host-b").Replace("audit(17955", "audit(17954", StringComparison.Ordinal));
        var log = new StringBuilder();
        for (var i = 0; i < Math.Max(a.Count, b.Count); i++)
        {
            if (i < a.Count)
                log.Append(a[i]);
            if (i < b.Count)
                log.Append(b[i]);
        }
        var input = Write("two-hosts.log", log.ToString());

        var streamed = new DetectionPipeline(DetectionRules.Default).Scan([input]).Alerts;

        Assert.Equal(600, streamed.Count); // each fetch one alert: the sh -c wrappers folded in
        Assert.Equal(Unstreamed(input), streamed.Select(NdjsonAlertWriter.ToJson).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("audit-enriched.log")]
    [InlineData("audit-raw.log.gz")]
    public void The_samples_raise_what_they_raised_when_every_alert_waited_for_the_end(string sample)
    {
        var path = Path.Combine(Repo.Samples, sample);
        var input = new InputSource(path, path);

        var streamed = new DetectionPipeline(DetectionRules.Default).Scan([input]).Alerts;

        Assert.NotEmpty(streamed);
        Assert.Equal(Unstreamed(input), streamed.Where(a => a.Layers.Any(l => l is Layer.Process or Layer.Network)).Select(NdjsonAlertWriter.ToJson).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_image_that_connects_again_after_a_minute_of_silence_is_a_second_alert_with_an_id_of_its_own()
    {
        var log = Exec(100, 4242, "/usr/bin/python3", ["python3", "/opt/app/poll.py"], time: T)
            + Connect(101, 4242, "/usr/bin/python3", "169.254.169.254", time: T + 1)
            + Connect(102, 4242, "/usr/bin/python3", "169.254.169.254", time: T + 30) // joins: within the window
            + Connect(103, 4242, "/usr/bin/python3", "169.254.169.254", time: T + 200); // 170 s of silence

        var alerts = Audit.AlertsOf(log);

        Assert.Equal(2, alerts.Count);
        Assert.NotEqual(alerts[0].Id, alerts[1].Id);
        Assert.Equal(2, alerts[0].Evidence.Count(e => e.Kind == "connect"));
        Assert.Single(alerts[1].Evidence, e => e.Kind == "connect");
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)T + 200), alerts[1].Timestamp);
    }

    [Fact]
    public void An_image_that_polls_the_service_keeps_fifty_connects_as_evidence_and_counts_the_rest()
    {
        var log = new StringBuilder(Exec(100, 4242, "/usr/bin/python3", ["python3", "/opt/app/poll.py"], time: T));
        for (var i = 0; i < 500; i++)
            log.Append(Connect(101 + (ulong)i, 4242, "/usr/bin/python3", "169.254.169.254", exit: i == 499 ? 0 : -111, time: T + 1 + (i * 0.1)));

        var alert = Assert.Single(Audit.AlertsOf(log.ToString()));
        var allFailed = Assert.Single(Audit.AlertsOf(log.ToString().Replace("success=yes exit=0 a0=5", "success=no exit=-111 a0=5", StringComparison.Ordinal)));

        Assert.Equal(ProcessActivity.KeptConnects, alert.Evidence.Count(e => e.Kind == "connect"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((long)T + 1), alert.Timestamp); // its first connect
        Assert.Equal("failure", alert.Outcome); // the highest outcome of all 500, as before
        Assert.Equal(allFailed.RiskScore + 10, alert.RiskScore); // the last connect succeeded: not "the connection failed" (-10)
    }

    [Fact]
    public void Without_a_cloudtrail_input_the_chain_keeps_no_credential_fetch()
    {
        var fetch = new Alert
        {
            Id = "fetch",
            Timestamp = DateTimeOffset.FromUnixTimeSeconds((long)T),
            RuleId = "r",
            RuleName = "r",
            AlertType = AlertType.MetadataAPIProcess,
            Access = ImdsWatch.Indicators.AccessClass.Credentials,
            Severity = Severity.High,
            RiskScore = 70,
            RiskReasons = [],
            Host = "web-1",
            Process = ProcessSnapshot.None,
            CredentialRole = "app-role",
            Layers = [Layer.Process],
            Evidence = [],
            Tags = [],
            Summary = "curl fetched credentials",
        };
        var use = fetch with
        {
            Id = "use",
            Timestamp = fetch.Timestamp.AddHours(1),
            AlertType = ImdsWatch.Detection.Cloud.CloudTrailRules.Exfiltration,
            Layers = [Layer.Cloud],
            Cloud = new CloudContext { RoleName = "app-role", SourceIp = "203.0.113.9", EventNames = ["ListBuckets"] },
        };

        List<Alert> Incidents(bool cloudTrail)
        {
            var chain = new ImdsWatch.Detection.Chain.CredentialTheftChain(new RuleContext { Rules = DetectionRules.Default, CloudTrailInputs = cloudTrail });
            var found = new CollectingFindings();
            chain.Observe(fetch, found);
            chain.Observe(use, found);
            chain.Complete(found);
            return found.Alerts;
        }

        Assert.Single(Incidents(cloudTrail: true));
        Assert.Empty(Incidents(cloudTrail: false));
    }

    private sealed class ActionSink(Action<Alert> emit) : IAlertSink
    {
        public void Emit(Alert alert) => emit(alert);

        public void Complete()
        {
        }
    }

    private sealed class CollectingFindings : IFindings
    {
        public List<Alert> Alerts { get; } = [];

        public void Raise(Alert alert) => Alerts.Add(alert);

        public void Record(MetadataAccess access)
        {
        }
    }
}
