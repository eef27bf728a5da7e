using System.CommandLine;
using ImdsWatch.Store;

namespace ImdsWatch.Cli.Commands;

/// <summary>The --state option every stateful command shares, and how the store is opened for it.</summary>
internal static class StateOption
{
    private const string NoDefault = "none here (XDG_STATE_HOME and the home folder are not absolute paths): give one";

    public static Option<string?> Create() => new("--state")
    {
        Description = $"State database (baseline, alerts, checkpoints); default {StateStore.DefaultPathOrNull() ?? NoDefault}",
    };

    public static string PathOf(ParseResult parse, Option<string?> option) => parse.GetValue(option) ?? StateStore.DefaultPath();
}
