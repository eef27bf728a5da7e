namespace ImdsWatch.Scanning.Prefilter;

/// <summary>What pass one learned of a run's records, and what makes its event matter.</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A [Flags] enum of the bits pass one sets on a run; the name says so.")]
public enum RunFlags : byte
{
    None = 0,
    /// <summary>The run holds its event's SYSCALL record (pid and ppid are known).</summary>
    Syscall = 1,
    /// <summary>A SOCKADDR to a metadata address, an EXECVE that may name an endpoint or splits an argument.</summary>
    Hot = 2,
    /// <summary>A SYSCALL record without a readable pid: its process cannot be told, so it is kept.</summary>
    NoPid = 4,
    /// <summary>An EXECVE with argc=0: detection reads the command line from PROCTITLE.</summary>
    EmptyArgv = 8,
    /// <summary>A PROCTITLE that may name an endpoint.</summary>
    ProctitleMayReference = 16,
    /// <summary>A PROCTITLE not checked, because no EXECVE came before it in the run.</summary>
    ProctitleUnchecked = 32,
    /// <summary>The run holds an EXECVE record.</summary>
    Execve = 64,
    /// <summary>One of auditd's own records (DAEMON_*, 1200-1299): its serial is auditd's, not the kernel's.</summary>
    Daemon = 128,
}

/// <summary>
/// Consecutive lines of one event (same node and serial) in a block: where they are, and what pass one saw in
/// them. Pass two parses the bytes of the runs it keeps and only counts the others.
/// </summary>
#pragma warning disable CA1051 // a hot-path value type, filled in place by pass one
public struct RecordRun
{
    public long Offset;
    public int Length;
    /// <summary>Index of the run's first line in its block (0-based); the reader adds the block's first line number.</summary>
    public int FirstLine;
    public int Records;
    public ulong Node;
    public ulong Serial;
    public long Milliseconds;
    public int Pid;
    public int ParentPid;
    public RunFlags Flags;
}
#pragma warning restore CA1051
