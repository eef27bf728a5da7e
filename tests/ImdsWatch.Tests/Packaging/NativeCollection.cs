using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Packaging;

/// <summary>
/// The packaging tests share one native build and run alone, after the others: the native compile would slow
/// every timing-sensitive test beside it, and the package test installs into the machine's /etc.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeCollection : ICollectionFixture<NativeBuild>
{
    public const string Name = "native build";
}
