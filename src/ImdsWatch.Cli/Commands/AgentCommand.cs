using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using ImdsWatch.Agent;
using ImdsWatch.Alerts;
using ImdsWatch.Anomaly;
using ImdsWatch.Config;
using ImdsWatch.Events;
using ImdsWatch.Sinks;
using ImdsWatch.Sinks.Spool;
using ImdsWatch.Store;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// <c>imdswatch agent</c>: real-time detection as an auditd plugin (audit records on stdin, auditd-plugins(5)),
/// alerts delivered to the configured sinks through a disk spool. EOF or SIGTERM/SIGINT: pending alerts are
/// completed and the sinks drained for a few seconds (what is left stays spooled); SIGHUP reloads the
/// configuration. <c>--check</c> validates the configuration and sends one test alert to each sink.
/// </summary>
public static class AgentCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var config = new Option<string?>("--config", "-c") { Description = "YAML configuration (sinks:, agent:, and the detection keys)" };
        var sinks = new Option<string[]>("--sink") { Description = "KIND=TARGET, repeatable: stdout, file=PATH, webhook=URL, hec=URL, elasticsearch=URL, syslog=udp://HOST:PORT|tcp://HOST:PORT|unix:///dev/log", AllowMultipleArgumentsPerToken = false };
        var input = new Option<string?>("--input") { Description = "stdin: the auditd plugin stream (the default when stdin is not a terminal and nothing is followed)" };
        var follow = new Option<string[]>("--follow") { Description = "Follow these log files as they grow (audit, syslog, web access; FORMAT:PATH to name the format), across rotation, resuming from a checkpoint", AllowMultipleArgumentsPerToken = true };
        input.AcceptOnlyFromAmong("stdin");
        var window = new Option<TimeSpan?>("--window") { Description = "Event time after an activity's last event before its alert is final (default 2s)", CustomParser = r => RunCommand.ParseDuration(r.Tokens.Single().Value) };
        var stateDir = new Option<string?>("--state-dir") { Description = "Where the sinks' spools live (default beside the state database)" };
        var statsInterval = new Option<TimeSpan?>("--stats-interval") { Description = "How often to log a stats line (default 5m)", CustomParser = r => RunCommand.ParseDuration(r.Tokens.Single().Value) };
        var check = new Option<bool>("--check") { Description = "Validate the configuration, send one test alert to each sink, and exit (1 when a sink failed)" };
        var host = new Option<string?>("--host") { Description = "Host name for records without node=" };
        var minSeverity = new Option<string?>("--min-severity") { Description = "Deliver only alerts at or above: low | medium | high | critical" };
        var state = StateOption.Create();
        var command = new Command("agent", "Detect in real time (auditd plugin on stdin) and deliver alerts to sinks: stdout, file, webhook, Splunk HEC, Elasticsearch, syslog")
        {
            config, sinks, input, follow, window, stateDir, statsInterval, check, host, minSeverity, state,
        };
        command.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            var log = Logger(stderr);
            var configPath = parse.GetValue(config);
            var flags = new ConfigFlags { Host = parse.GetValue(host), MinSeverity = parse.GetValue(minSeverity) };
            var statePath = StateOption.PathOf(parse, state);
            var sinkFlags = parse.GetValue(sinks) ?? [];
            (EffectiveConfig Effective, ImdsWatchConfig File, List<SinkSettings> Sinks) Load()
            {
                var effective = EffectiveConfig.Build(configPath, flags);
                var file = configPath is null ? new ImdsWatchConfig() : ImdsWatchConfig.Load(configPath);
                if (flags.MinSeverity is not null)
                    file.MinSeverity = flags.MinSeverity;
                var list = SinkConfig.FromConfig(file, sinkFlags);
                if (list.Count == 0)
                    list.Add(SinkFactory.Parse("stdout", "stdout") with { MinimumSeverity = effective.MinimumSeverity });
                return (effective, file, list);
            }

            var first = Load();
            var spoolRoot = parse.GetValue(stateDir) ?? first.File.Agent.StateDir ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(statePath)) ?? ".", "agent");
            if (parse.GetValue(check))
                return Check(first.Sinks, stdout, stderr);
            PluginProcess.Reset(); // a long-running agent only: --check runs in the caller's environment, as any command
            var followed = (parse.GetValue(follow) ?? []).Concat(first.File.Agent.Follow).Distinct(StringComparer.Ordinal).ToList();
            var readStdin = parse.GetValue(input) is not null || (followed.Count == 0 && Console.IsInputRedirected);
            if (!readStdin && followed.Count == 0)
                throw new InvalidDataException("agent: stdin is a terminal; run it as an auditd plugin (/etc/audit/plugins.d/imdswatch.conf), pipe audit records in (--input stdin), or follow files (--follow PATH)");

            var agentWindow = parse.GetValue(window) ?? TimeSpan.FromSeconds(first.File.Agent.WindowSeconds);
            if (agentWindow <= TimeSpan.Zero || agentWindow > TimeSpan.FromMinutes(5))
                throw new InvalidDataException("agent: the window must be between 0 and 5 minutes (1-2 s is typical)");
            var baseline = LoadBaseline(statePath);
            AgentWarmUp.Run(sink => first.Effective.Pipeline(baseline).Start(sink, agentWindow));
            (EffectiveConfig Effective, ImdsWatchConfig File, List<SinkSettings> Sinks)? pending = first;
            Func<AgentRuntime> Prepare()
            {
                var (effective, _, list) = pending ?? Load();
                pending = null;
                return () =>
                {
                    var built = list.Select(s => SinkFactory.Create(s, stdout, spoolRoot, log)).ToList();
                    var pipeline = effective.Pipeline(baseline)
                        .SkippingRuleFailures((at, e) => log($"internal error at {at.File}:{at.Line} ({e.GetType().Name}: {e.Message}); record skipped (please report it with that line)"))
                        .Start(new FanOutSink(built), agentWindow);
                    return new AgentRuntime(pipeline, built);
                };
            }

            var queue = readStdin ? new RecordPump(first.File.Agent.QueueCapacity) : null;
            AgentHost? running = null;
            var followers = followed.Select(f => new FileFollower(f, Path.Combine(spoolRoot, "follow"), log) { Wake = () => running?.Wake() }).ToList();
            using var agent = running = new AgentHost(Prepare, log, followers)
            {
                StatsInterval = parse.GetValue(statsInterval) ?? TimeSpan.FromMinutes(first.File.Agent.StatsIntervalMinutes),
            };
            // SIGINT/SIGTERM through Interrupts (Main): one sent while the agent starts is kept; the host drains and flushes.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Interrupts.Token);
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx => { ctx.Cancel = true; agent.RequestReload(); });
            var inputs = string.Join(", ", (readStdin ? ["stdin"] : Array.Empty<string>()).Concat(followers.Select(f => f.Path)));
            log($"started: {first.Sinks.Count} sink(s) ({string.Join(", ", first.Sinks.Select(s => s.Name))}), input {inputs}, window {agentWindow.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s, spool {spoolRoot}");
            queue?.Start(Console.OpenStandardInput(), log);
            agent.Run(queue, stop.Token);
            if (Interrupts.Received is not { } signal)
                return ExitCodes.Ok;
            log($"{(signal == PosixSignal.SIGINT ? "interrupted" : "terminated")} by {Interrupts.Name(signal)}; pending alerts completed, sinks flushed, stopped");
            return Interrupts.ExitCode(signal);
        }));
        return command;
    }

    private static BaselineSnapshot? LoadBaseline(string statePath)
    {
        if (!File.Exists(statePath))
            return null;
        using var store = StateStore.Open(statePath);
        return new BaselineRepository(store).Snapshot();
    }

    private static Action<string> Logger(TextWriter stderr)
    {
        var gate = new Lock();
        return message =>
        {
            lock (gate)
            {
                stderr.WriteLine($"imdswatch agent: {message}");
                stderr.Flush();
            }
        };
    }

    /// <summary>Each sink once: a test alert (rule imds.agent.check, severity low) must be accepted.</summary>
    private static int Check(List<SinkSettings> sinks, TextWriter stdout, TextWriter stderr)
    {
        var probe = ProbeAlert();
        var json = Alerts.Output.NdjsonAlertWriter.ToJson(probe);
        var failed = 0;
        foreach (var s in sinks)
        {
            try
            {
                using var target = SinkFactory.Target(s);
                if (target is null)
                {
                    var sink = SinkFactory.Create(s, stdout, Path.GetTempPath(), _ => { });
                    sink.Emit(probe);
                    sink.Complete();
                    (sink as IDisposable)?.Dispose();
                }
                else
                {
                    using var timeout = new CancellationTokenSource(s.Timeout);
                    var result = target.SendAsync([new SpoolEntry(probe.Id, json, 0, 0)], timeout.Token).GetAwaiter().GetResult();
                    if (result.Rejected.Count > 0 || !result.Complete)
                        throw new IOException(result.Rejected.Count > 0 ? "the test alert was refused: " + result.Rejected[0].Reason : "the receiver asked to send the test alert again later");
                }
                stderr.WriteLine($"imdswatch agent --check: sink {s.Name} ({s.Kind.ToString().ToLowerInvariant()} {s.Target}): ok");
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                failed++;
                stderr.WriteLine($"imdswatch agent --check: sink {s.Name} ({s.Kind.ToString().ToLowerInvariant()} {s.Target}): FAILED: {e.Message}");
            }
        }
        stderr.WriteLine($"imdswatch agent --check: configuration valid, {sinks.Count - failed} of {sinks.Count} sink(s) accepted a test alert");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.AlertsOrFailures;
    }

    private static Alert ProbeAlert() => new()
    {
        Id = "check-" + Guid.NewGuid().ToString("N")[..12],
        Timestamp = DateTimeOffset.UtcNow,
        RuleId = "imds.agent.check",
        RuleName = "imdswatch agent --check test alert",
        AlertType = AlertType.MetadataAPINetwork,
        Access = Indicators.AccessClass.Connect,
        Severity = Severity.Low,
        RiskScore = 0,
        Host = Environment.MachineName,
        Process = new ProcessSnapshot { Pid = Environment.ProcessId, Name = "imdswatch" },
        Tags = ["test"],
        Summary = "imdswatch agent --check: a test alert, not a detection",
    };
}
