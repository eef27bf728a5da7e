using System.Globalization;

namespace ImdsWatch.Runner;

/// <summary>
/// The rotated files of a live log, oldest first: auditd's and logrotate's numbers (audit.log.1 is newer than
/// audit.log.2), compressed or not (audit.log.2.gz), and logrotate's dateext names (audit.log-20261130, older
/// dates first). Any number of them: a late run may find more than one rotation's worth.
/// </summary>
public static class RotatedFiles
{
    public static List<string> Of(string live)
    {
        var dir = Path.GetDirectoryName(live);
        var name = Path.GetFileName(live);
        if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
            return [];
        var found = new List<(string Path, string Suffix)>();
        string[] files;
        try
        {
            files = Directory.GetFiles(dir, name + "*");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return []; // a folder this user may not list: the live file alone, if it can be read
        }
        foreach (var file in files)
        {
            var rest = Path.GetFileName(file)[name.Length..];
            var suffix = rest.EndsWith(".gz", StringComparison.Ordinal) ? rest[..^3] : rest;
            if (Sources.Input.FileKind.NotRegular(file) is null && suffix.Length >= 2 && suffix[0] is '.' or '-' or '_' && char.IsAsciiDigit(suffix[1])
                && suffix[1..].All(c => char.IsAsciiDigit(c) || c is '.' or '-' or '_'))
            {
                found.Add((file, suffix[1..]));
            }
        }
        // A number counts rotations (bigger is older); anything else is a date or a time (smaller is older).
        return found
            .OrderBy(f => IsNumber(f.Suffix) ? 1 : 0)
            .ThenByDescending(f => IsNumber(f.Suffix) ? int.Parse(f.Suffix, CultureInfo.InvariantCulture) : 0)
            .ThenBy(f => IsNumber(f.Suffix) ? "" : f.Suffix, StringComparer.Ordinal)
            .ThenBy(f => File.GetLastWriteTimeUtc(f.Path))
            .Select(f => f.Path)
            .ToList();
    }

    private static bool IsNumber(string suffix) => suffix.Length <= 6 && suffix.All(char.IsAsciiDigit);
}
