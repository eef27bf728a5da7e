using System.CommandLine;
using ImdsWatch.Config;
using ImdsWatch.Export;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// <c>imdswatch export sigma|splunk|elastic [--out DIR]</c>: the engine's detection as rules for a SIEM, generated
/// from the catalogs the engine runs on (and a --config's additions), so the two never drift.
/// </summary>
public static class ExportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("target") { Description = "sigma, splunk or elastic" };
        target.AcceptOnlyFromAmong("sigma", "splunk", "elastic");
        var outDir = new Option<string?>("--out", "-o") { Description = "Write the files into this folder (created if needed); stdout without it" };
        var config = new Option<string?>("--config", "-c") { Description = "YAML configuration whose agents, indicators and programs the export includes" };
        var command = new Command("export", "Print the detection as Sigma rules, a Splunk app or an Elastic rule import file") { target, outDir, config };
        command.SetAction(parse => CommandErrors.Guard(stderr, () =>
        {
            var which = Enum.Parse<ExportTarget>(parse.GetValue(target)!, ignoreCase: true);
            var path = parse.GetValue(config);
            var rules = (path is null ? new ImdsWatchConfig() : ImdsWatchConfig.Load(path)).BuildRules();
            var files = RuleExport.Generate(which, rules);
            if (parse.GetValue(outDir) is { } dir)
                return WriteFiles(dir, files, stdout);
            WriteStream(which, files, stdout, stderr);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static int WriteFiles(string dir, IReadOnlyList<ExportFile> files, TextWriter stdout)
    {
        if (File.Exists(dir))
            throw new IOException($"{dir}: is a file, not a folder");
        foreach (var file in files)
        {
            var full = Path.Combine(dir, file.Path.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, file.Content);
        }
        stdout.WriteLine($"imdswatch: wrote {files.Count} file(s) to {dir}");
        return ExitCodes.Ok;
    }

    /// <summary>Without --out: Sigma as one multi-document YAML stream, Splunk's files one after another under a comment
    /// naming each, Elastic's rule import file alone (it must stay pure NDJSON to import; the ML job needs --out).</summary>
    private static void WriteStream(ExportTarget target, IReadOnlyList<ExportFile> files, TextWriter stdout, TextWriter stderr)
    {
        switch (target)
        {
            case ExportTarget.Sigma:
                for (var i = 0; i < files.Count; i++)
                {
                    if (i > 0)
                        stdout.WriteLine("---");
                    stdout.WriteLine($"# {files[i].Path}");
                    stdout.Write(files[i].Content);
                }
                break;
            case ExportTarget.Splunk:
                foreach (var file in files)
                {
                    stdout.WriteLine($"# ==> {file.Path} <==");
                    stdout.Write(file.Content);
                    stdout.WriteLine();
                }
                break;
            default:
                foreach (var file in files.Where(f => f.Path.EndsWith(".ndjson", StringComparison.Ordinal)))
                    stdout.Write(file.Content);
                var rest = files.Where(f => !f.Path.EndsWith(".ndjson", StringComparison.Ordinal)).Select(f => f.Path).ToList();
                if (rest.Count > 0)
                    stderr.WriteLine($"imdswatch: also {string.Join(", ", rest)}: written only with --out DIR");
                break;
        }
    }
}
