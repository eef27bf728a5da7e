namespace ImdsWatch.Sources.Auditd.Prefilter;

/// <summary>
/// The worker threads of pass one, kept for all the files of a scan: a rotated set of 63 files started 126 threads,
/// two a file, each with its stack set up and given back (clone3 and madvise: ~132 and ~200 calls against 8 and 71 for
/// the same bytes in one file). Threads of their own, not the pool's, for the reason <see cref="ParallelBlockPass"/>
/// gives; background threads, so that a team not disposed never keeps the process alive.
/// </summary>
internal sealed class BlockPassTeam(int size) : IDisposable
{
    private readonly List<Thread> _threads = [];
    private readonly SemaphoreSlim _start = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private Action? _work;
    private int _running;
    private bool _disposed;

    public int Size { get; } = size;

    /// <summary>Runs <paramref name="work"/> on <paramref name="count"/> of the team's threads (started at first need); <see cref="Wait"/> waits for them.</summary>
    public void Start(Action work, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_running != 0)
            throw new InvalidOperationException("the team is still at work");
        count = Math.Min(count, Size);
        while (_threads.Count < count)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = "imdswatch pass one" };
            thread.Start();
            _threads.Add(thread);
        }
        _work = work;
        _running = count;
        _start.Release(count);
    }

    /// <summary>Waits until every thread given the work has returned from it.</summary>
    public void Wait()
    {
        for (; _running > 0; _running--)
            _done.Wait();
        _work = null;
    }

    private void Loop()
    {
        while (true)
        {
            _start.Wait();
            if (Volatile.Read(ref _disposed))
                return;
            try
            {
                _work!();
            }
            finally
            {
                _done.Release();
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        Wait();
        Volatile.Write(ref _disposed, true);
        if (_threads.Count > 0)
            _start.Release(_threads.Count);
        foreach (var thread in _threads)
            thread.Join();
        _start.Dispose();
        _done.Dispose();
    }
}
