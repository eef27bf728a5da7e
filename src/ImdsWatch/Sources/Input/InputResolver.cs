using System.Text.RegularExpressions;
using Microsoft.Extensions.FileSystemGlobbing;

namespace ImdsWatch.Sources.Input;

/// <summary>
/// Turns the user's PATH arguments into sources: files, directories (rotated logs oldest first:
/// audit.log.3, audit.log.2, audit.log.1, audit.log), globs, and "-" for standard input.
/// </summary>
public static partial class InputResolver
{
    public static IReadOnlyList<InputSource> Resolve(IEnumerable<string> specs, out IReadOnlyList<string> errors) =>
        Resolve(specs, out errors, out _);

    /// <summary>Files found in a directory are read only when they look like a log imdswatch reads; the rest are listed in <paramref name="skipped"/>.</summary>
    public static IReadOnlyList<InputSource> Resolve(IEnumerable<string> specs, out IReadOnlyList<string> errors, out IReadOnlyList<string> skipped)
    {
        var passedOver = new List<string>();
        skipped = passedOver;
        var sources = new List<InputSource>();
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if (spec == "-")
            {
                sources.Add(InputSource.StandardInput);
                continue;
            }
            IEnumerable<string> files;
            if (File.Exists(spec))
                files = [spec];
            else if (Directory.Exists(spec))
            {
                var all = Directory.EnumerateFiles(spec, "*", SearchOption.AllDirectories).Where(IsLogFileName).ToList();
                var logs = all.Where(f => FormatDetector.Detect(new InputSource(f, f)) != LogFormat.Unknown).ToList();
                passedOver.AddRange(all.Except(logs));
                files = OrderRotated(logs);
            }
            else if (spec.AsSpan().IndexOfAny("*?[") >= 0)
                files = OrderRotated(Glob(spec));
            else
            {
                problems.Add($"{spec}: no such file or directory");
                continue;
            }
            var any = false;
            foreach (var f in files)
            {
                any = true;
                if (seen.Add(Path.GetFullPath(f)))
                    sources.Add(new InputSource(f, f));
            }
            if (!any)
                problems.Add($"{spec}: matched no files");
        }
        errors = problems;
        return sources;
    }

    /// <summary>Within one folder and base name, the highest rotation number is the oldest.</summary>
    public static IEnumerable<string> OrderRotated(IEnumerable<string> files) =>
        files.Select(f => (Path: f, Key: RotationKey(f)))
            .OrderBy(x => x.Key.Directory, StringComparer.Ordinal)
            .ThenBy(x => x.Key.Base, StringComparer.Ordinal)
            .ThenByDescending(x => x.Key.Number)
            .Select(x => x.Path);

    private static (string Directory, string Base, int Number) RotationKey(string path)
    {
        var dir = Path.GetDirectoryName(path) ?? "";
        var name = Path.GetFileName(path);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
            name = name[..^3];
        var m = RotationSuffix().Match(name);
        return m.Success ? (dir, m.Groups[1].Value, int.Parse(m.Groups[2].Value)) : (dir, name, 0);
    }

    private static bool IsLogFileName(string path) => !Path.GetFileName(path).StartsWith('.');

    private static IEnumerable<string> Glob(string pattern)
    {
        var full = Path.GetFullPath(pattern);
        var firstWild = full.AsSpan().IndexOfAny("*?[");
        var root = Path.GetDirectoryName(full[..(full.LastIndexOf('/', firstWild) + 1)]) ?? "/";
        if (!Directory.Exists(root))
            return [];
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(Path.GetRelativePath(root, full));
        return matcher.GetResultsInFullPath(root);
    }

    [GeneratedRegex(@"^(.*)\.(\d+)$")]
    private static partial Regex RotationSuffix();
}
