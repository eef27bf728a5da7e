namespace ImdsWatch.Tests.Support;

/// <summary>Where the repository, its samples and the shared corpora are, seen from the test binaries.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Samples => Path.Combine(Root, "samples");

    /// <summary>../shared/corpora beside the clone; absent in a plain clone, and tests that need it skip.</summary>
    public static string Corpora => Path.GetFullPath(Path.Combine(Root, "..", "shared", "corpora"));

    public static bool HasCorpora => Directory.Exists(Corpora);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ImdsWatch.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException("cannot find the repository root (ImdsWatch.slnx) above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs ../shared/corpora and skips cleanly without it.</summary>
public sealed class CorpusFactAttribute : FactAttribute
{
    public CorpusFactAttribute()
    {
        if (!Repo.HasCorpora)
            Skip = $"{Repo.Corpora} is absent (a plain clone has no shared corpora)";
    }
}

public sealed class CorpusTheoryAttribute : TheoryAttribute
{
    public CorpusTheoryAttribute()
    {
        if (!Repo.HasCorpora)
            Skip = $"{Repo.Corpora} is absent (a plain clone has no shared corpora)";
    }
}
