using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImdsWatch.Agent;

/// <summary>
/// Where following a file stopped: the file (inode and fingerprint of its first bytes), the offset after the last
/// line whose alerts are final, and that line's number. One small file per followed path in the state folder,
/// replaced atomically (written aside, then renamed), mode 0600.
/// </summary>
public sealed record FollowCheckpoint(FileIdentity File, long Offset, long Line)
{
    /// <summary>The checkpoint file of <paramref name="path"/> under <paramref name="directory"/>.</summary>
    public static string PathFor(string directory, string path) =>
        System.IO.Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(System.IO.Path.GetFullPath(path))))[..16] + ".checkpoint");

    /// <summary>The saved checkpoint, or null when there is none or it is unreadable (then the file is read from its end).</summary>
    public static FollowCheckpoint? Load(string file)
    {
        try
        {
            var fields = System.IO.File.ReadAllText(file).Split(' ', StringSplitOptions.TrimEntries);
            if (fields.Length < 5)
                return null;
            var inv = CultureInfo.InvariantCulture;
            return new FollowCheckpoint(new FileIdentity(ulong.Parse(fields[0], inv), int.Parse(fields[1], inv), fields[2]), long.Parse(fields[3], inv), long.Parse(fields[4], inv));
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Save(string file, string followedPath)
    {
        var directory = System.IO.Path.GetDirectoryName(file)!;
        Directory.CreateDirectory(directory);
        var temp = file + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{File.Inode} {File.FingerprintLength} {File.Fingerprint} {Offset} {Line} {followedPath}\n"));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        System.IO.File.Move(temp, file, overwrite: true);
    }
}
