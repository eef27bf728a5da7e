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
                if (Unsupported(spec))
                {
                    notFiles.Add($"{spec}: not a supported format ({Formats}); nothing read from it");
                    continue;
                }
                files = [spec];
            }
            else if (Directory.Exists(spec))
            {
                // Only regular files: detecting the format of a FIFO in the folder would block, a device never ends.
                List<string> all;
                try
                {
                    all = [.. Directory.EnumerateFiles(spec, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 }).Where(IsLogFileName)];
                }
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    problems.Add($"{spec}: cannot list the folder ({(e is UnauthorizedAccessException ? "permission denied: run as root, or as a member of the group that can read it" : e.Message)})");
                    continue;
                }
                var special = all.Where(f => FileKind.NotRegular(f) is not null).ToList();
                passedOver.AddRange(special);
                all = [.. all.Except(special)];
                var logs = all.Where(f => FormatDetector.Detect(new InputSource(f, f)) != LogFormat.Unknown).ToList();
                passedOver.AddRange(all.Except(logs));
                if (logs.Count == 0 && all.Count > 0)
                {
                    problems.Add($"{spec}: {all.Count} file(s), none in a supported format ({Formats})");
                    continue;
                }
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

    private const string Formats = "Linux audit, syslog, ECS JSON, web access log, CloudTrail; plain or gzip";

    /// <summary>
    /// A file named on the command line that is in no format imdswatch reads (a binary, a package.json): refused
    /// rather than parsed as an audit log into hundreds of issues. An empty file holds nothing to refuse, and a
    /// gzip file is left to the reader, which names the file and line where a damaged one ends.
    /// </summary>
    private static bool Unsupported(string path)
    {
        try
        {
            using (var stream = File.OpenRead(path))
            {
                Span<byte> magic = stackalloc byte[2];
                var n = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
                if (n == 0 || (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b))
                    return false;
            }
            // Further than in a folder: a named file may open with a long comment (the laurel traces do).
            return FormatDetector.Detect(new InputSource(path, path), maxLines: 1000) == LogFormat.Unknown;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // the reader reports it, with the reason
        }
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
