namespace ImdsWatch.Events;

/// <summary>A program was executed (execve/execveat).</summary>
public sealed record ProcessExec : HostEvent
{
    public bool Success { get; init; } = true;
}
