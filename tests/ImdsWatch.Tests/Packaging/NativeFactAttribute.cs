using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Packaging;

/// <summary>A fact that needs the native build; skipped, with the reason, where clang or the static SQLite is missing.</summary>
public sealed class NativeFactAttribute : FactAttribute
{
    public NativeFactAttribute()
    {
        if (NativeBuild.MissingPrerequisite() is { } reason)
            Skip = reason;
    }
}
