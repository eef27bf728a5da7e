namespace ImdsWatch.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int AlertsOrFailures = 1;
    public const int Usage = 2;
}
