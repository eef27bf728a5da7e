namespace ImdsWatch.Fuzz;

/// <summary>The repository root, found from the binary (seeds come from samples/ and tests/).</summary>
internal static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ImdsWatch.slnx")))
                return dir.FullName;
        }
        return Environment.CurrentDirectory;
    }
}
