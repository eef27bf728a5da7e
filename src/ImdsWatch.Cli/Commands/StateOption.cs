using System.CommandLine;
using ImdsWatch.Store;

namespace ImdsWatch.Cli.Commands;

/// <summary>The --state option every stateful command shares, and how the store is opened for it.</summary>
internal static class StateOption
{
    public static Option<string?> Create() => new("--state")
    {
        Description = $"State database (baseline, alerts, checkpoints); default {StateStore.DefaultPath()}",
    };

    public static string PathOf(ParseResult parse, Option<string?> option) => parse.GetValue(option) ?? StateStore.DefaultPath();
}
