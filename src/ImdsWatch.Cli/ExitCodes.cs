namespace ImdsWatch.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int AlertsOrFailures = 1;
    public const int Usage = 2;

    /// <summary>A bug ended the command (sysexits' EX_SOFTWARE); the message names the file and line it met.</summary>
    public const int Internal = 70;
    public const int Interrupted = 130;
    public const int Terminated = 143;
}
