namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>What pass one learned of a run's records, and what makes its event matter.</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "A [Flags] enum of the bits pass one sets on a run; the name says so.")]
public enum RunFlags : uint
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
    // What the full parser would count of a skipped event (the summary's execs and outbound connects are the same
    // with and without the prefilter): the call, its outcome, and whether its SOCKADDR holds an inet address.
    /// <summary>A SYSCALL whose call is execve or execveat.</summary>
    ExecCall = 1 << 8,
    /// <summary>A SYSCALL whose call hands the kernel a destination address (connect, sendto …).</summary>
    OutboundCall = 1 << 9,
    /// <summary>A SYSCALL with success=no.</summary>
    Failed = 1 << 10,
    /// <summary>A SYSCALL of a big-endian arch (the byte order of the SOCKADDR's family).</summary>
    ArchBigEndian = 1 << 11,
    /// <summary>A SYSCALL without a readable arch: the family is read in whichever order names a known one.</summary>
    ArchUnknown = 1 << 12,
    /// <summary>The event's SOCKADDR (the first of the run).</summary>
    SockAddr = 1 << 13,
    /// <summary>The SOCKADDR's first saddr= starts with an inet or inet6 family in either order (or cannot be told).</summary>
    SockAddrMayBeInet = 1 << 14,
    /// <summary>Its saddr decodes to an address when the family is read little-endian.</summary>
    InetIfLittleEndian = 1 << 15,
    /// <summary>… read big-endian.</summary>
    InetIfBigEndian = 1 << 16,
    /// <summary>… read in whichever order names a known family (arch unknown).</summary>
    InetIfArchUnknown = 1 << 17,
    /// <summary>
    /// A user-space record with a kernel event's serial: the assembler emits it alone and the kernel records after it
    /// as fragments, so the event is kept (the full parser then counts it as a full parse would).
    /// </summary>
    Standalone = 1 << 18,
    /// <summary>
    /// The SYSCALL was read only as far as its own run needed (pid, ppid, and success where the run holds an EXECVE):
    /// an event whose records came in more than one run is then kept, and the full parser counts it.
    /// </summary>
    CallUnread = 1 << 19,
    /// <summary>The run holds an EOE record: the assembler completes the event there.</summary>
    Ended = 1 << 20,
    /// <summary>
    /// A record other than EOE follows an EOE in the run: the assembler, which completed the event at the EOE, makes it
    /// an event of its own (a late fragment), so the event is kept and pass two groups its records as a full parse does.
    /// </summary>
    Reopened = 1 << 21,
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
