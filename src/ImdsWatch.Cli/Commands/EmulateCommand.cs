using System.CommandLine;
using System.Runtime.InteropServices;
using ImdsWatch.Emulator;

namespace ImdsWatch.Cli.Commands;

/// <summary><c>imdswatch emulate</c>: a metadata service that serves canary credentials, for tests and demos.</summary>
public static class EmulateCommand
{
    public const string ReadyLine = "imdswatch emulate: ready";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var listen = new Option<string[]>("--listen", "-l")
        {
            Description = "URL to listen on, repeatable (default http://127.0.0.1:18169). Binds only where told.",
            AllowMultipleArgumentsPerToken = false,
        };
        var imdsv2 = new Option<string>("--imdsv2") { Description = "optional | required: AWS metadata without a session token gets 401 when required", DefaultValueFactory = _ => "optional" };
        imdsv2.AcceptOnlyFromAmong("optional", "required");
        var log = new Option<string?>("--log") { Description = "Append each request as a JSON line to this file" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print requests" };
        var command = new Command("emulate", "Run an emulated cloud metadata service (AWS, Azure, GCP, ECS, EKS, Alibaba, Oracle) serving canary credentials")
        {
            listen, imdsv2, log, quiet,
        };
        command.SetAction(parse =>
        {
            var given = parse.GetValue(listen) is { Length: > 0 } l ? l : ["http://127.0.0.1:18169"];
            var urls = given.Select(ListenUrl).ToArray();
            if (Array.IndexOf(urls, null) is var bad and >= 0)
            {
                stderr.WriteLine($"imdswatch emulate: --listen: '{given[bad]}' is not a URL to listen on (example: http://127.0.0.1:18169; port 1-65535)");
                return ExitCodes.Usage;
            }
            var options = new EmulatorOptions { Urls = urls!, RequireImdsV2 = parse.GetValue(imdsv2) == "required", RequestLog = parse.GetValue(log) };
            var printRequests = !parse.GetValue(quiet);
            return Run(options, printRequests, stdout, stderr);
        });
        return command;
    }

    /// <summary>An http(s) URL with a host and a port in range; a bare HOST:PORT is taken as http.</summary>
    internal static string? ListenUrl(string text)
    {
        var candidate = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        // Kestrel's wildcard hosts (http://*:80, http://+:80) are no URI hosts: checked as 0.0.0.0, passed on as given.
        var checkable = candidate.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
        return Uri.TryCreate(checkable, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0
            ? candidate
            : null;
    }

    private static int Run(EmulatorOptions options, bool printRequests, TextWriter stdout, TextWriter stderr)
    {
        // SIGINT/SIGTERM through Interrupts (Main): one sent while the listeners start is kept.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Interrupts.Token);
        var emulator = new MetadataEmulator(options, printRequests ? line => { lock (stdout) stdout.WriteLine(line); } : null);
        try
        {
            emulator.StartAsync().GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            stderr.WriteLine($"imdswatch emulate: cannot listen on {string.Join(", ", options.Urls)}: {e.Message}");
            return ExitCodes.Usage;
        }
        lock (stdout)
        {
            stdout.WriteLine($"{ReadyLine} on {string.Join(", ", emulator.Urls)}");
            stdout.Flush();
        }
        try
        {
            Task.Delay(Timeout.Infinite, stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
        }
        emulator.StopAsync().GetAwaiter().GetResult();
        emulator.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (Interrupts.Received is not { } signal)
            return ExitCodes.Ok;
        stderr.WriteLine($"imdswatch emulate: {(signal == PosixSignal.SIGINT ? "interrupted" : "terminated")} by {Interrupts.Name(signal)}; stopped");
        return Interrupts.ExitCode(signal);
    }
}
