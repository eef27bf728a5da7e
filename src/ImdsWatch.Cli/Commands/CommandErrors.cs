namespace ImdsWatch.Cli.Commands;

internal static class CommandErrors
{
    /// <summary>Turns the errors a user can act on into a message and exit 2.</summary>
    public static int Guard(TextWriter stderr, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException or FormatException)
        {
            stderr.WriteLine($"imdswatch: {e.Message}");
            return ExitCodes.Usage;
        }
    }
}
