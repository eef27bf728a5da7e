using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ImdsWatch.Runner;

/// <summary>
/// One run at a time on a state: an exclusive flock(2) on <c>STATE.lock</c> beside the database, held for the
/// whole run (read, raise, store). Two runs at once would both raise the alerts neither had stored yet. The
/// kernel drops the lock when its holder dies, even by kill -9, so a crash never leaves the state locked.
/// </summary>
public sealed partial class RunLock : IDisposable
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int EWouldBlock = 11;
    private const int EInterrupted = 4;
    private int _fd;

    private RunLock(int fd) => _fd = fd;

    /// <summary>Takes the lock, waiting at most <paramref name="wait"/> for a run that holds it; IOException when it does not come.</summary>
    public static RunLock Take(string statePath, TimeSpan wait, CancellationToken cancellation = default)
    {
        var path = statePath + ".lock";
        var fd = OpenNoFollow(path);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (Flock(fd, LockExclusive | LockNonBlocking) == 0)
                return new RunLock(fd);
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EWouldBlock && errno != EInterrupted)
            {
                Close(fd);
                throw new IOException($"{path}: cannot lock the state (errno {errno})");
            }
            if (cancellation.IsCancellationRequested)
            {
                Close(fd);
                cancellation.ThrowIfCancellationRequested();
            }
            if (clock.Elapsed >= wait)
            {
                Close(fd);
                throw new IOException($"{statePath}: another imdswatch run is using this state (it holds {path}) and did not finish within {wait.TotalSeconds:0} s; "
                    + "this run stopped without reading anything (two runs at once would raise the same alerts twice)");
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>O_CREAT without following a symbolic link planted in the state folder; 0600.</summary>
    private static int OpenNoFollow(string path)
    {
        const int readWrite = 2, create = 0x40, closeOnExec = 0x80000;
        var noFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
        var fd = Open(path, readWrite | create | closeOnExec | noFollow, Convert.ToInt32("600", 8));
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException(errno == 40 // ELOOP: the last component is a symbolic link
                ? $"{path}: is a symbolic link; refusing to follow it (remove it, or give --state in a folder only you can write)"
                : $"{path}: cannot open the state's lock file (errno {errno})");
        }
        return fd;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
            Close(fd); // closing the last descriptor releases the lock
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
