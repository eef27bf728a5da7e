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
            var urls = parse.GetValue(listen) is { Length: > 0 } given ? given : ["http://127.0.0.1:18169"];
            var options = new EmulatorOptions { Urls = urls, RequireImdsV2 = parse.GetValue(imdsv2) == "required", RequestLog = parse.GetValue(log) };
            var printRequests = !parse.GetValue(quiet);
            return Run(options, printRequests, stdout, stderr);
        });
        return command;
    }

    private static int Run(EmulatorOptions options, bool printRequests, TextWriter stdout, TextWriter stderr)
    {
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
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
        return ExitCodes.Ok;
    }
}
