using System.Net;
using System.Security.Cryptography;
using System.Text;
using ImdsWatch.Alerts;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// The two host-side layers: an exec whose command line reaches a metadata endpoint (MetadataAPIProcess) and
/// a connect to a metadata address decoded from SOCKADDR (MetadataAPINetwork). Events arrive in log order;
/// everything one process image did becomes one alert, and a wrapper or shell that ran the command is folded
/// into the alert of the command it ran. Known agents are dropped by executable path, never by name.
/// </summary>
public sealed class MetadataAccessDetector(DetectionRules rules, DetectionStats? stats = null) : IDetectionRule
{
    private static readonly TimeSpan WrapperWindow = TimeSpan.FromSeconds(30);

    /// <summary>Live: how long an activity that cannot fold further waits for more connects of its image.</summary>
    public static readonly TimeSpan SettleAfter = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Live: an activity is final at the latest this long after its first event, however often its image keeps
    /// connecting (a process that polls the service, or one that connects on purpose to hold its alert back); what
    /// follows becomes an activity of its own.
    /// </summary>
    public static readonly TimeSpan MaxOpen = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A batch scan: an activity whose last event is this far behind the newest the detector acted on is final and
    /// leaves at once, so memory does not grow with the number of alerts. Twice the wrapper window: a wrapper's
    /// command still folds into its alert even when events arrive up to 30 s out of order.
    /// </summary>
    public static readonly TimeSpan BatchWindow = TimeSpan.FromSeconds(60);

    /// <summary>A batch scan: at most this many activities open; past it the longest quiet are final early (counted).</summary>
    public const int MaxOpenActivities = 20_000;

    /// <summary>The name of the early finals in <see cref="DetectionStats.Evicted"/>.</summary>
    public const string FinalisedEarly = "activities final early (more than 20000 open)";

    // How far event time moves between two sweeps of the open activities.
    private static readonly TimeSpan SweepStep = TimeSpan.FromSeconds(1);

    private readonly ProcessTracker _tracker = new() { Analyzer = rules.Analyzer };
    private readonly ArgvVerdicts _argv = new(rules);
    private readonly Dictionary<(string? Host, int Pid, ulong Image), ProcessActivity> _byImage = [];
    private readonly OpenActivities _open = new();
    private long _opened;

    public DetectionStats Stats { get; } = stats ?? new();

    public MetadataAccessDetector(RuleContext context)
        : this(context.Rules, context.Stats)
    {
        LiveWindow = context.LiveWindow;
        if (context.Live)
        {
            SettleWindow = SettleAfter < LiveWindow ? SettleAfter : LiveWindow;
            _tracker = new ProcessTracker { MaxEntries = ProcessTracker.LiveMaxEntries, MaxAge = ProcessTracker.LiveMaxAge, Stats = Stats, Analyzer = context.Rules.Analyzer };
        }
        else
        {
            StreamWindow = BatchWindow;
        }
    }

    /// <summary>
    /// A batch scan that streams its alerts: activities <see cref="BatchWindow"/> behind the event time of the
    /// execs and connects of their host that the detector acts on are final (null: everything waits for
    /// <see cref="Complete"/>). Only those events move a host's clock, never the others, so a scan that skips
    /// unrelated records (the prefilter) finalises the same activities at the same points, in the same order.
    /// </summary>
    public TimeSpan? StreamWindow { get; init; }

    public void Observe(IObservedEvent e, IFindings findings)
    {
        if (e is HostEvent h)
            Observe(h, findings);
    }

    public void Complete(IFindings findings)
    {
        foreach (var access in Release(_open.TakeAll(), parallel: true))
            findings.Record(access);
        _byImage.Clear();
    }

    /// <summary>
    /// Live detection: how long after an activity's last event it is final. A wrapper's command, or a connect of the
    /// image, that arrives later than this becomes an alert of its own.
    /// </summary>
    public TimeSpan LiveWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Live detection (the agent): an activity that <see cref="CannotFoldFurther">cannot fold further</see> is final
    /// this long after its last event instead of <see cref="LiveWindow"/>. Null (a batch scan): the window alone.
    /// </summary>
    public TimeSpan? SettleWindow { get; init; }

    /// <summary>
    /// Activities whose last event is older than <see cref="LiveWindow"/>, or older than <see cref="SettleWindow"/>
    /// when nothing can join them any more, become final and are recorded.
    /// </summary>
    public void Advance(DateTimeOffset eventTime, IFindings findings)
    {
        var cutoff = eventTime - LiveWindow;
        var settled = SettleWindow is { } settle ? eventTime - settle : cutoff;
        var opened = SettleWindow is null ? DateTimeOffset.MinValue : eventTime - (MaxOpen > LiveWindow ? MaxOpen : LiveWindow);
        Finalise(a => (a.LastSeen < settled && (a.LastSeen < cutoff || CannotFoldFurther(a))) || a.FirstSeen < opened, findings);
    }

    /// <summary>The open activities that <paramref name="due"/> picks (of every host, or of one) leave, in the order they ended.</summary>
    private void Finalise(Func<ProcessActivity, bool> due, IFindings findings, string? host = null, bool allHosts = true)
    {
        if (_open.Take(due, host, allHosts) is not { } finished)
            return;
        foreach (var access in Release(finished, parallel: false))
            findings.Record(access);
    }

    /// <summary>
    /// Built and counted, in the order the activities ended (last event, then first, then the order they opened):
    /// with event time moving forward, everything released later ended later. Their images are marked, so a later
    /// connect of one opens an activity of its own name.
    /// </summary>
    private List<MetadataAccess> Release(List<ProcessActivity> finished, bool parallel)
    {
        finished.Sort(static (x, y) => x.LastSeen != y.LastSeen ? x.LastSeen.CompareTo(y.LastSeen)
            : x.FirstSeen != y.FirstSeen ? x.FirstSeen.CompareTo(y.FirstSeen) : x.Ordinal.CompareTo(y.Ordinal));
        foreach (var a in finished)
        {
            foreach (var key in a.Keys)
            {
                if (_byImage.TryGetValue(key, out var open) && ReferenceEquals(open, a))
                    _byImage.Remove(key);
            }
        }
        // Each access is built from its own activity alone: a large batch (the end of a scan) on every core.
        var built = new MetadataAccess[finished.Count];
        if (parallel && built.Length > 64)
            Parallel.For(0, built.Length, i => built[i] = BuildAccess(finished[i]));
        else
        {
            for (var i = 0; i < built.Length; i++)
                built[i] = BuildAccess(finished[i]);
        }
        foreach (var access in built)
            CountAgent(access);
        foreach (var a in finished)
        {
            foreach (var image in a.Images)
                image.ActivityEnded = true;
        }
        return [.. built];
    }

    /// <summary>
    /// A batch scan: an exec or connect the detector acts on at <paramref name="time"/> first lets go of what its
    /// host has had quiet for <see cref="StreamWindow"/> (checked once a second of the host's event time, and
    /// whenever that time goes back).
    /// </summary>
    private void Sweep(string? host, DateTimeOffset time, IFindings? findings)
    {
        if (StreamWindow is not { } window || findings is null || !_open.SweepDue(host, time, SweepStep))
            return;
        var cutoff = time - DateTimeOffset.MinValue > window ? time - window : DateTimeOffset.MinValue;
        Finalise(a => a.LastSeen < cutoff, findings, host, allHosts: false);
    }

    /// <summary>A batch scan with more than <see cref="MaxOpenActivities"/> open: the tenth quiet the longest leave early.</summary>
    private void Cap(IFindings? findings)
    {
        if (StreamWindow is null || findings is null || _open.Count <= MaxOpenActivities)
            return;
        var bound = _open.LastSeenTimes()[MaxOpenActivities / 10];
        var before = _open.Count;
        Finalise(a => a.LastSeen <= bound, findings);
        Stats.Evicted[FinalisedEarly] = Stats.Evicted.GetValueOrDefault(FinalisedEarly) + (before - _open.Count);
    }

    /// <summary>
    /// What can still join an activity: a command its wrapper, shell or interpreter starts (same process or a child),
    /// and connects of its image. Once the image has connected, and the program that runs is a fetch tool started as
    /// itself (no wrapper, shell or interpreter in front that could start another command naming the endpoint), only
    /// further connects of that image can join, and they follow within milliseconds. A connect-only activity (no
    /// command line names the endpoint) likewise grows only by connects.
    /// </summary>
    private static bool CannotFoldFurther(ProcessActivity a)
    {
        if (a.ConnectCount == 0)
            return false;
        if (a.AccessExecs.Count == 0)
            return true;
        var (exec, analysis) = a.AccessExecs[^1];
        return analysis.Role == ProgramRole.FetchTool && exec.Process.Args.Count > 0
            && string.Equals(CommandLineAnalyzer.BaseName(exec.Process.Args[0]), analysis.Program, StringComparison.Ordinal);
    }

    /// <summary>One event, in log order, with nothing final before <see cref="CompleteAll"/> (tests, fuzzing).</summary>
    public void Observe(HostEvent e) => Observe(e, null);

    private void Observe(HostEvent e, IFindings? findings)
    {
        switch (e)
        {
            case ProcessExec exec:
                OnExec(exec, findings);
                break;
            case NetworkConnect connect:
                OnConnect(connect, findings);
                break;
        }
    }

    private void OnExec(ProcessExec exec, IFindings? findings)
    {
        if (!exec.Success)
            return; // a failed execve (PATH search, ENOENT) starts no image
        Stats.Execs++;
        if (!_argv.MayReference(exec.Process.Args))
        {
            // Nothing on the command line can name an endpoint: the image serves as ancestry, or as the image of a
            // connect, and its command line is read only if an alert asks.
            _tracker.Record(exec);
            return;
        }
        var analysis = rules.Analyzer.Analyze(exec.Process.Args);
        var sameProcessBefore = _tracker.Current(exec.Host, exec.Process.Pid, exec.Sequence);
        var parent = exec.Process.ParentPid is { } ppid ? _tracker.Current(exec.Host, ppid, exec.Sequence) : null;
        var image = new TrackedImage(exec, analysis, rules.Analyzer);
        _tracker.Record(image);
        if (analysis.References.Count == 0)
            return;
        if (!analysis.IsAccess)
        {
            Stats.Mentions++;
            if (Stats.MentionSamples.Count < 20)
                Stats.MentionSamples.Add($"{exec.Evidence.File}:{exec.Evidence.Line}: {analysis.Reason}: {Truncate(exec.Process.CommandLine, 160)}");
            return;
        }

        Sweep(exec.Host, exec.Timestamp, findings);
        var key = (exec.Host, exec.Process.Pid, exec.Sequence);
        var activity = WrapperActivity(exec, analysis, sameProcessBefore) ?? WrapperActivity(exec, analysis, parent);
        if (activity is null)
        {
            activity = new ProcessActivity(exec.Host, exec.Process.Pid, _opened++);
            _open.Add(activity);
        }
        activity.AddExec(exec, analysis);
        activity.Ancestors = _tracker.Ancestors(exec.Host, exec.Process, exec.Sequence).ToList();
        activity.Keys.Add(key);
        activity.Images.Add(image);
        _byImage[key] = activity;
        Cap(findings);
    }

    /// <summary>
    /// sudo, timeout, ip netns exec, sh -c run the command they were given, in the same process or a child:
    /// when that command names the same endpoints, it is the same access.
    /// </summary>
    private ProcessActivity? WrapperActivity(ProcessExec exec, CommandAnalysis analysis, TrackedImage? candidate)
    {
        if (candidate is null || exec.Timestamp - candidate.Exec.Timestamp > WrapperWindow)
            return null;
        if (!_byImage.TryGetValue((candidate.Exec.Host, candidate.Exec.Process.Pid, candidate.Exec.Sequence), out var activity))
            return null;
        var outer = candidate.Analysis.References.Select(r => (r.HostText, r.Path)).ToHashSet();
        return analysis.References.All(r => outer.Contains((r.HostText, r.Path))) ? activity : null;
    }

    private void OnConnect(NetworkConnect connect, IFindings? findings)
    {
        Stats.Connects++;
        if (rules.Catalog.MatchAddress(connect.Destination) is not { } endpoint)
            return;
        Stats.MetadataConnects++;
        Sweep(connect.Host, connect.Timestamp, findings);
        var image = _tracker.Current(connect.Host, connect.Process.Pid, connect.Sequence);
        if (image is not null && connect.Process.Executable is { } exe && image.Exec.Process.Executable is { } imageExe && exe != imageExe)
            image = null; // the exec of this image was not logged
        var imageId = image?.Exec.Sequence ?? StableHash(connect.Process.Executable ?? connect.Process.Name ?? "");
        var key = (connect.Host, connect.Process.Pid, imageId);
        if (!_byImage.TryGetValue(key, out var activity))
        {
            activity = new ProcessActivity(connect.Host, connect.Process.Pid, _opened++) { Image = image, Continues = image?.ActivityEnded == true };
            activity.Keys.Add(key);
            if (image is not null)
                activity.Images.Add(image);
            _byImage[key] = activity;
            _open.Add(activity);
        }
        if (activity.ConnectCount == 0 && activity.AccessExecs.Count == 0)
            activity.Ancestors = _tracker.Ancestors(connect.Host, image?.Exec.Process ?? connect.Process, connect.Sequence).ToList();
        activity.AddConnect(connect, endpoint);
        Cap(findings);
    }

    /// <summary>Every metadata access still open, and the alerts among them: accesses in the order they ended, alerts in time order.</summary>
    public DetectionResult CompleteAll()
    {
        var accesses = Release(_open.TakeAll(), parallel: true);
        _byImage.Clear();
        var alerts = accesses.Where(a => a.Alert is not null).Select(a => a.Alert!)
            .OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
        return new DetectionResult(alerts, accesses);
    }

    private void CountAgent(MetadataAccess access)
    {
        if (access.Agent is { } agent)
            Stats.AllowedByAgent[agent] = Stats.AllowedByAgent.GetValueOrDefault(agent) + 1;
    }

    private MetadataAccess BuildAccess(ProcessActivity a)
    {
        var connect = a.Connects.Count > 0 ? a.Connects[0].Connect : null;
        var exec = a.InnermostExec;
        var process = Merge(exec?.Process, connect?.Process);
        var analyses = a.AccessExecs.Select(x => x.Analysis).ToList();
        var context = analyses.Count > 0 ? analyses[^1]
            : a.Image?.Analysis ?? rules.Analyzer.Analyze(process.Args);

        var ancestors = a.Ancestors;
        var script = AgentAllowList.ScriptOf(process, context.ScriptPath);
        var verdict = rules.Agents.Evaluate(process, script, ancestors);
        var refs = analyses.SelectMany(x => x.References).ToList();
        var headers = analyses.SelectMany(x => x.Headers).ToList();
        var best = refs.OrderByDescending(r => r.Class).ThenByDescending(r => r.Endpoint is not null).FirstOrDefault();
        var access = new[] { best?.Class ?? AccessClass.Connect }
            .Concat(headers.Where(h => h.Class is not null).Select(h => h.Class!.Value)).Max();
        var role = RoleOf(analyses, context, process, script, ancestors);
        var evidence = a.AccessExecs.Select(x => new EvidenceItem("exec", x.Exec.Evidence.File, x.Exec.Evidence.Line, x.Exec.Evidence.RecordId, Truncate(x.Exec.Process.CommandLine, 300)))
            .Concat(a.Connects.Select(c => new EvidenceItem("connect", c.Connect.Evidence.File, c.Connect.Evidence.Line, c.Connect.Evidence.RecordId,
                $"{c.Connect.Syscall} {Format(c.Connect.Destination, c.Connect.Port)} {OutcomeText(c.Connect.Outcome)}")))
            .ToList();
        var identity = new MetadataAccess
        {
            Ordinal = a.Ordinal,
            Evidence = evidence,
            Host = a.Host,
            Timestamp = a.FirstSeen,
            Process = process,
            ProgramKey = Anomaly.ProgramIdentity.Key(process, context, script),
            Access = access,
            Role = role,
            Ancestors = ancestors,
            Interactive = process.HasTerminal || role is ProgramRole.FetchTool or ProgramRole.Shell or ProgramRole.ShellOneLiner or ProgramRole.InterpreterOneLiner,
        };
        if (verdict.Agent is not null)
            return identity with { Agent = verdict.Agent };

        var obfuscation = refs.Aggregate(ObfuscationKind.None, (k, r) => k | r.Obfuscation);
        if (a.AnyIPv4InIPv6)
            obfuscation |= ObfuscationKind.IPv6Embedding;

        var writable = AgentAllowList.WritableLocation(process.Executable ?? "") ?? (script is not null && script.StartsWith('/') ? AgentAllowList.WritableLocation(script) : null);
        var failed = a.AllFailed;
        var risk = rules.Risk.Start().Add("host.reached." + access.ToWire());
        var roleKey = role.RiskKey();
        if (roleKey is not null)
            risk.Add(roleKey);
        risk.AddIf(refs.Any(r => r.Port is not null && r.Path is null && analyses.Any(x => x.InlineCode?.Contains("/dev/", StringComparison.Ordinal) == true)), "host.shell-socket")
            .AddIf(writable is not null, "host.writable-location", writable)
            .AddIf(obfuscation != ObfuscationKind.None, "host.obfuscated")
            .AddIf(process.HasTerminal, "host.terminal")
            .AddIf(refs.Count > 0 && refs.All(r => r.Endpoint is null) && a.ConnectCount == 0, "host.path-only")
            .AddIf(failed, "host.failed")
            .Clamp();
        // An impersonated agent is scored on top of the clamped score: it never drops below what the access earned.
        if (verdict.Refusal is not null)
            risk.Add("host.agent-impersonation", verdict.Refusal).Clamp();

        var isProcessLayer = a.AccessExecs.Count > 0;
        var ruleId = isProcessLayer ? "imds.auditd.process" : "imds.auditd.network";
        var destination = connect?.Destination ?? AddressOf(best);
        var endpoint = a.Connects.Count > 0 ? a.Connects[0].Endpoint : best?.Endpoint;
        var provider = best?.Provider ?? headers.Select(h => h.Provider).FirstOrDefault() ?? endpoint?.SoleProvider;
        var tags = new List<string> { "first-seen" };
        tags.AddRange(Enum.GetValues<ObfuscationKind>().Where(k => k != ObfuscationKind.None && obfuscation.HasFlag(k)).Select(k => "evasion:" + k.ToString().ToLowerInvariant()));
        if (role == ProgramRole.WebServer)
            tags.Add("ssrf");
        if (verdict.Refusal is not null)
            tags.Add("agent-impersonation");
        if (!isProcessLayer && role == ProgramRole.Other && !process.HasTerminal)
            tags.Add("non-interactive");


        return identity with
        {
            Alert = new Alert
            {
                Id = AlertId(a.Host, a.Pid, a.FirstSequence, ruleId),
                Timestamp = a.FirstSeen,
                RuleId = ruleId,
                RuleName = isProcessLayer ? "Metadata API access by process command line" : "Metadata API network connection",
                AlertType = isProcessLayer ? AlertType.MetadataAPIProcess : AlertType.MetadataAPINetwork,
                Access = access,
                Severity = risk.Severity,
                RiskScore = risk.Score,
                RiskReasons = risk.Reasons,
                Host = a.Host,
                Process = process,
                Parent = ancestors.Count > 0 && ancestors[0].Pid == process.ParentPid ? ancestors[0] : null,
                DestinationIp = destination is null ? null : AddressSpelling.Fold(destination),
                DestinationPort = connect?.Port ?? best?.Port ?? (best?.IsUrl == true ? 80 : null),
                Url = best?.Url,
                CloudProvider = provider,
                CredentialRole = CredentialPath.RoleOf(best?.Url ?? best?.Path),
                EndpointId = endpoint?.Id,
                ProgramKey = identity.ProgramKey,
                Layers = isProcessLayer && a.Connects.Count > 0 ? [Layer.Process, Layer.Network] : isProcessLayer ? [Layer.Process] : [Layer.Network],
                Evidence = evidence,
                Tags = tags,
                FirstSeen = true,
                Outcome = a.ConnectCount == 0 ? null : OutcomeText(a.MaxOutcome),
                Summary = Summarize(process, context, access, destination, endpoint, best),
                Ancestors = ancestors,
            }
        };
    }

    private ProgramRole RoleOf(List<CommandAnalysis> analyses, CommandAnalysis context, ProcessSnapshot process, string? script, List<ProcessSnapshot> ancestors)
    {
        var programs = rules.Programs;
        var exeName = CommandLineAnalyzer.BaseName(process.Executable ?? "");
        if (programs.IsWebServer(exeName) || programs.IsWebServer(process.Name))
            return ProgramRole.WebServer;
        if (script is not null && programs.WebServerScripts.Any(s => script.Contains(s, StringComparison.Ordinal)))
            return ProgramRole.WebServer;
        if (ancestors.Take(2).Any(p => programs.IsWebServer(CommandLineAnalyzer.BaseName(p.Executable ?? "")) || programs.IsWebServer(p.Name)))
            return ProgramRole.WebServer;
        var roles = analyses.Select(x => x.Role).Append(context.Role).ToList();
        foreach (var preferred in new[] { ProgramRole.ShellOneLiner, ProgramRole.Shell, ProgramRole.InterpreterOneLiner, ProgramRole.FetchTool, ProgramRole.Interpreter })
        {
            if (roles.Contains(preferred))
                return preferred;
        }
        if (programs.FetchTools.Contains(exeName))
            return ProgramRole.FetchTool;
        return ProgramRole.Other;
    }

    private static ProcessSnapshot Merge(ProcessSnapshot? exec, ProcessSnapshot? connect)
    {
        if (exec is null)
            return connect!;
        if (connect is null)
            return exec;
        return exec with
        {
            Tty = exec.Tty ?? connect.Tty,
            WorkingDirectory = exec.WorkingDirectory ?? connect.WorkingDirectory,
            User = exec.User.Name is null && connect.User.Name is not null ? connect.User : exec.User,
        };
    }

    private static IPAddress? AddressOf(EndpointReference? r)
    {
        if (r?.Endpoint is null)
            return null;
        var host = r.HostText.Trim('[', ']');
        if (AddressSpelling.TryParseIPv4(host, out var v4))
            return AddressSpelling.FromUInt32(v4);
        return IPAddress.TryParse(host, out var ip) ? ip : null;
    }

    private static string Summarize(ProcessSnapshot p, CommandAnalysis context, AccessClass access, IPAddress? destination, MetadataEndpoint? endpoint, EndpointReference? best)
    {
        var who = $"{CommandLineAnalyzer.BaseName(p.Executable ?? p.Name ?? "?")} (pid {p.Pid}, user {p.User.Name ?? p.User.Uid?.ToString() ?? "?"})";
        var what = access switch
        {
            AccessClass.Credentials => "fetched credentials from",
            AccessClass.Token => "requested a session token from",
            AccessClass.UserData => "read user-data from",
            AccessClass.Metadata => "read metadata from",
            _ => "connected to",
        };
        var where = endpoint?.Name ?? destination?.ToString() ?? "a metadata path";
        var url = best?.Url ?? best?.Path;
        return url is null ? $"{who} {what} {where}" : $"{who} {what} {where}: {url}";
    }

    private static string OutcomeText(ConnectOutcome o) => o switch
    {
        ConnectOutcome.Success => "success",
        ConnectOutcome.InProgress => "attempt",
        ConnectOutcome.Failure => "failure",
        _ => "unknown",
    };

    private static string Format(IPAddress ip, int? port) =>
        ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}";

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    private static ulong StableHash(string s) =>
        BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(s))) | (1UL << 63);

    public static string AlertId(string? host, int pid, ulong sequence, string ruleId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{host}|{pid}|{sequence}|{ruleId}")))[..16];
}
