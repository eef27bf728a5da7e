using System.Text;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>
/// A bug in a worker or a stage ends the scan with the file and line it met, on every path; nothing waits forever
/// for a thread that failed (the default prefiltered scan once hung at 0 % CPU when a worker threw).
/// </summary>
public sealed class ScanFailureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Log(int events, string program = "ls", string argument = "-l")
    {
        var text = new StringBuilder();
        for (var i = 0; i < events; i++)
            text.Append(Audit.Exec((ulong)(i + 1), 500 + i, $"/usr/bin/{program}", [program, argument], time: 1700000000 + i));
        var path = Path.Combine(_dir, "audit.log");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private static T Within<T>(Func<T> action)
    {
        var task = Task.Run(action);
        Assert.True(Task.WaitAny([task], TimeSpan.FromSeconds(60)) == 0, "the scan hung");
        return task.GetAwaiter().GetResult();
    }

    /// <summary>A pass over the file whose classifier throws at block 7: the pass fails with that exception inside.</summary>
    private static void FailsAtBlock7(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length, int workers, BlockPassTeam? team, Action<BlockSummary> onBlock)
    {
        var pass = new ParallelBlockPass(DetectionRules.Default.Candidates, workers, blockSize: 4096)
        {
            Team = team,
            Classified = index => { if (index == 7) throw new InvalidOperationException("bug in block 7"); },
        };
        var e = Assert.ThrowsAny<Exception>(() => Within(() =>
        {
            pass.Run(file, 0, length, onBlock);
            return 0;
        }));
        Assert.Equal("bug in block 7", e.InnerException?.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void A_worker_that_throws_ends_pass_one_instead_of_leaving_the_reader_waiting(int workers)
    {
        var path = Log(2000);
        using var file = File.OpenHandle(path);
        var length = RandomAccess.GetLength(file);
        var blocks = 0;
        FailsAtBlock7(file, length, workers, team: null, _ => blocks++);
        Assert.True(blocks <= 7, $"{blocks} blocks were handed on past the failed one");
    }

    /// <summary>A team kept between the files of a scan: a failure in one pass leaves its threads ready for the next pass.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_team_whose_worker_threw_reads_the_next_file_whole(int workers)
    {
        var path = Log(2000);
        using var file = File.OpenHandle(path);
        var length = RandomAccess.GetLength(file);
        using var team = new BlockPassTeam(workers);
        FailsAtBlock7(file, length, workers, team, _ => { });
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        var expected = (int)((length + 4095) / 4096);
        for (var pass = 0; pass < 3; pass++)
        {
            var blocks = 0;
            var next = new ParallelBlockPass(DetectionRules.Default.Candidates, workers, blockSize: 4096)
            {
                Team = team,
                Classified = _ => threads.TryAdd(Environment.CurrentManagedThreadId, true),
            };
            Within(() =>
            {
                next.Run(file, 0, length, block => Assert.Equal(blocks++, block.Index));
                return 0;
            });
            Assert.Equal(expected, blocks);
        }
        Assert.InRange(threads.Count, 1, workers); // the same threads, pass after pass
    }

    [Fact]
    public void Cancelling_pass_one_wakes_the_reader_and_the_workers()
    {
        var path = Log(2000);
        using var file = File.OpenHandle(path);
        using var cancel = new CancellationTokenSource();
        var pass = new ParallelBlockPass(DetectionRules.Default.Candidates, 2, blockSize: 4096);
        Assert.ThrowsAny<OperationCanceledException>(() => Within(() =>
        {
            pass.Run(file, 0, RandomAccess.GetLength(file), block =>
            {
                if (block.Index == 3)
                    cancel.Cancel();
            }, cancel.Token);
            return 0;
        }));
    }

    [Fact]
    public void A_stage_that_throws_in_pass_two_names_the_file_and_line_it_was_given()
    {
        var path = Log(3000, "curl", "http://169.254.169.254/latest/meta-data/");
        var emitted = 0;
        var assembler = new AuditEventAssembler(e =>
        {
            if (++emitted == 2500)
                throw new InvalidOperationException($"bug at event {e.Serial}");
        });
        var scan = new PrefilteredAuditScan(DetectionRules.Default.Candidates, new AuditRecordParser(), assembler) { BlockSize = 4096 };
        var e = Assert.Throws<ScanFailedException>(() => Within(() =>
        {
            using var handle = File.OpenHandle(path);
            scan.Scan([new ScanFile(new InputSource(path, path), 0, handle, (_, _) => { })], RandomAccess.GetLength(handle));
            return 0;
        }));
        Assert.Equal(path, e.File);
        Assert.Equal((2499 * 5) + 1, e.Line); // five records an event: the first line of the 2500th
        Assert.StartsWith("bug at event", e.InnerException!.Message, StringComparison.Ordinal);
    }
}
