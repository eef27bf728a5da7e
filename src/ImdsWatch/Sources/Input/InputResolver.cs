using System.Text.RegularExpressions;
using Microsoft.Extensions.FileSystemGlobbing;

namespace ImdsWatch.Sources.Input;

/// <summary>
/// Turns the user's PATH arguments into sources: files, directories (rotated logs oldest first:
/// audit.log.3, audit.log.2, audit.log.1, audit.log), globs, and "-" for standard input.
/// </summary>
public static partial class InputResolver
{
    /// <summary>As below; a path that is not a regular file is one of the <paramref name="errors"/>.</summary>
    public static IReadOnlyList<InputSource> Resolve(IEnumerable<string> specs, out IReadOnlyList<string> errors) =>
        Resolve(specs, out errors, out _);

    /// <summary>As below; a path that is not a regular file is one of the <paramref name="errors"/>.</summary>
    public static IReadOnlyList<InputSource> Resolve(IEnumerable<string> specs, out IReadOnlyList<string> errors, out IReadOnlyList<string> skipped)
    {
        var sources = Resolve(specs, out errors, out skipped, out var refused);
        errors = [.. errors, .. refused];
        return sources;
    }

    /// <summary>
    /// Files found in a directory are read only when they look like a log imdswatch reads; the rest are listed in
    /// <paramref name="skipped"/>. A path naming a FIFO, a device or a socket is <paramref name="refused"/> with a
    /// message (it would block or never end), and the other paths are read.
    /// </summary>
    public static IReadOnlyList<InputSource> Resolve(IEnumerable<string> specs, out IReadOnlyList<string> errors, out IReadOnlyList<string> skipped,
        out IReadOnlyList<string> refused)
    {
        var passedOver = new List<string>();
        skipped = passedOver;
        var notFiles = new List<string>();
        refused = notFiles;
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
            var refusedBefore = notFiles.Count;
            if (File.Exists(spec))
            {
                if (FileKind.NotRegular(spec) is { } kind)
                {
                    notFiles.Add($"{spec}: {kind}, not a log file; refused (to read a stream, pipe it to - for standard input)");
                    continue;
                }
                files = [spec];
            }
            else if (Directory.Exists(spec))
            {
                // Only regular files: detecting the format of a FIFO in the folder would block, a device never ends.
                var all = Directory.EnumerateFiles(spec, "*", SearchOption.AllDirectories).Where(IsLogFileName).ToList();
                var special = all.Where(f => FileKind.NotRegular(f) is not null).ToList();
                passedOver.AddRange(special);
                all = [.. all.Except(special)];
                var logs = all.Where(f => FormatDetector.Detect(new InputSource(f, f)) != LogFormat.Unknown).ToList();
                passedOver.AddRange(all.Except(logs));
                files = OrderRotated(logs);
            }
            else if (spec.AsSpan().IndexOfAny("*?[") >= 0)
            {
                var matched = Glob(spec).ToList();
                foreach (var f in matched.Where(f => FileKind.NotRegular(f) is not null))
                    notFiles.Add($"{f}: {FileKind.NotRegular(f)}, not a log file; refused");
                files = OrderRotated(matched.Where(f => FileKind.NotRegular(f) is null));
            }
            else
            {
                problems.Add($"{spec}: no such file or directory");
                continue;
            }
            var any = notFiles.Count > refusedBefore;
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
