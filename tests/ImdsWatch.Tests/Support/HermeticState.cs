using System.Runtime.CompilerServices;

namespace ImdsWatch.Tests.Support;

/// <summary>No test reads or writes the developer's own state database: XDG_STATE_HOME points at a temp folder.</summary>
internal static class HermeticState
{
    [ModuleInitializer]
    internal static void Isolate() =>
        Environment.SetEnvironmentVariable("XDG_STATE_HOME", Directory.CreateTempSubdirectory("imdswatch-state-").FullName);
}
