namespace ImdsWatch.Fuzz;

/// <summary>
/// One thing to fuzz: a parser or stage fed one input. It throws <see cref="FuzzFinding"/> when an oracle fails;
/// any other exception that escapes is a crash (readers never throw on bad input).
/// </summary>
internal sealed record FuzzTarget(string Name, SeedKind Seeds, string Description, Action<byte[], Scratch> Run);

/// <summary>An oracle that failed: not a crash, a wrong answer (e.g. alerts that differ with the prefilter).</summary>
internal sealed class FuzzFinding(string message) : Exception(message);

/// <summary>A folder for targets that read files (the prefiltered scan, CloudTrail, config); removed by its owner.</summary>
internal sealed class Scratch : IDisposable
{
    public Scratch()
    {
        var shm = "/dev/shm";
        Directory = System.IO.Directory.CreateTempSubdirectory("imdswatch-fuzz-").FullName;
        if (System.IO.Directory.Exists(shm))
        {
            System.IO.Directory.Delete(Directory);
            Directory = System.IO.Directory.CreateDirectory(Path.Combine(shm, $"imdswatch-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}")).FullName;
        }
    }

    public string Directory { get; }

    /// <summary>Writes the input to the scratch file of <paramref name="name"/> and returns its path.</summary>
    public string Write(string name, byte[] input)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllBytes(path, input);
        return path;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
