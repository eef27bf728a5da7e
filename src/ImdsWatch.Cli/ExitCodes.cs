namespace ImdsWatch.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int AlertsOrFailures = 1;
    public const int Usage = 2;

    /// <summary>A bug in imdswatch (sysexits' EX_SOFTWARE).</summary>
    public const int Internal = 70;
    public const int Interrupted = 130;
    public const int Terminated = 143;
}
