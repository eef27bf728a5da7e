using ImdsWatch.Agent;
using ImdsWatch.Config;
using ImdsWatch.Pipeline;
using ImdsWatch.Sinks;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Sinks;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Agent;

/// <summary>
/// <c>--follow</c>: an audit log followed as it grows, rotated by rename and by copytruncate with attack lines written
/// just before and just after the rotation, and a restart that resumes from the checkpoint.
/// </summary>
public sealed class FileFollowerTests
{
    private static string Sample => Path.Combine(Repo.Samples, "audit-enriched.log");

    internal static readonly string[] Lines = File.ReadAllLines(Sample);

    private static HashSet<string> ScanIds() =>
        EffectiveConfig.Default.Pipeline().Scan([new InputSource(Sample, Sample)]).Alerts.Select(a => a.Id).ToHashSet();

    /// <summary>The first line of the event that starts the test script at about <paramref name="fraction"/> of the sample.</summary>
    internal static int Boundary(double fraction)
    {
        var i = Array.FindIndex(Lines, (int)(Lines.Length * fraction), l => l.Contains("type=EXECVE", StringComparison.Ordinal) && l.Contains("a0=\"timeout\"", StringComparison.Ordinal));
        var serial = Serial(Lines[i]);
        while (i > 0 && Serial(Lines[i - 1]) == serial)
            i--;
        return i;
    }

    private static string Serial(string line) => line[line.IndexOf("msg=audit(", StringComparison.Ordinal)..line.IndexOf("):", StringComparison.Ordinal)];

    /// <summary>An empty log and a state folder in <paramref name="dir"/>.</summary>
    private static (string Log, string State) NewLog(TestAlerts.TempDir dir)
    {
        var log = Path.Combine(dir.Path, "audit.log");
        File.WriteAllText(log, "");
        return (log, Path.Combine(dir.Path, "state"));
    }

    private static void Append(string path, int from, int to) =>
        File.AppendAllLines(path, Lines[from..to]);

    private sealed class Run : IDisposable
    {
        public Run(string log, string state, TimeSpan? renamedGrace = null)
        {
            Live = EffectiveConfig.Default.Pipeline().Start(Sink, TimeSpan.FromSeconds(2));
            Follower = new FileFollower(log, state, _ => { }) { RenamedGrace = renamedGrace ?? TimeSpan.FromSeconds(5) };
            Follower.Attach(Live);
            Follower.Start();
        }

        public CollectingSink Sink { get; } = new();
        public LivePipeline Live { get; }
        public FileFollower Follower { get; }

        public HashSet<string> Stop()
        {
            Follower.Flush();
            Live.Complete();
            Follower.CommitAll();
            return Sink.Alerts.Select(a => a.Id).ToHashSet();
        }

        public void Dispose() => Follower.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_rotation_loses_none_of_the_lines_written_just_before_and_after_it(bool copytruncate)
    {
        using var dir = new TestAlerts.TempDir();
        var log = Path.Combine(dir.Path, "audit.log");
        File.WriteAllText(log, "");
        var (before, after) = (Boundary(0.4), Boundary(0.6));
        using var run = new Run(log, Path.Combine(dir.Path, "state"));
        Append(log, 0, before);
        Assert.Equal(before, run.Follower.Poll());

        Append(log, before, after); // written just before the rotation, not read yet
        if (copytruncate)
        {
            File.Copy(log, log + ".1");
            using (var truncate = new FileStream(log, FileMode.Open, FileAccess.Write))
                truncate.SetLength(0);
        }
        else
        {
            File.Move(log, log + ".1");
            File.WriteAllText(log, "");
        }
        Append(log, after, Lines.Length); // just after
        Assert.Equal(Lines.Length - before, run.Follower.Poll());

        Assert.Equal(1, run.Follower.Rotations);
        Assert.Equal(ScanIds().Order(StringComparer.Ordinal), run.Stop().Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_restart_resumes_at_the_checkpoint_without_a_duplicate_even_after_a_rotation_while_stopped(bool rotateWhileStopped)
    {
        using var dir = new TestAlerts.TempDir();
        var (log, state) = NewLog(dir);
        var (stop, rotate) = (Boundary(0.35), Boundary(0.7));
        HashSet<string> first;
        using (var run = new Run(log, state))
        {
            Append(log, 0, stop);
            run.Follower.Poll();
            first = run.Stop();
        }
        var checkpoint = Assert.Single(Directory.GetFiles(state, "*.checkpoint"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(checkpoint));

        Append(log, stop, rotate); // written while the agent is down
        if (rotateWhileStopped)
        {
            File.Move(log, log + ".1");
            File.WriteAllText(log, "");
        }
        Append(log, rotate, Lines.Length);
        HashSet<string> second;
        using (var run = new Run(log, state))
        {
            run.Follower.Poll();
            Assert.Equal(Lines.Length - stop, run.Follower.Lines);
            second = run.Stop();
        }

        Assert.NotEmpty(first);
        Assert.NotEmpty(second);
        Assert.Empty(first.Intersect(second)); // none twice
        Assert.Equal(ScanIds().Order(StringComparer.Ordinal), first.Union(second).Order(StringComparer.Ordinal)); // none lost
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Lines_a_writer_still_appends_to_the_renamed_file_are_read_until_it_is_quiet()
    {
        using var dir = new TestAlerts.TempDir();
        var (log, state) = NewLog(dir);
        var (rename, reopen, restart) = (Boundary(0.3), Boundary(0.5), Boundary(0.75));
        HashSet<string> first;
        using (var run = new Run(log, state, renamedGrace: TimeSpan.FromMilliseconds(300)))
        {
            Append(log, 0, rename);
            run.Follower.Poll();
            File.Move(log, log + ".1"); // logrotate renames; the writer keeps its descriptor until it is told to reopen
            File.WriteAllText(log, "");
            Assert.Equal(0, run.Follower.Poll());
            Assert.True(run.Follower.ReadingRenamed);

            Append(log + ".1", rename, reopen); // the writer, not yet reopened, still writes to the old file
            Assert.Equal(reopen - rename, run.Follower.Poll());
            Append(log, reopen, restart); // now it writes to the new one
            Assert.Equal(restart - reopen, run.Follower.Poll());
            Thread.Sleep(400);
            run.Follower.Poll();
            Assert.False(run.Follower.ReadingRenamed); // quiet for the grace: closed
            first = run.Stop();
        }
        Append(log, restart, Lines.Length);
        HashSet<string> second;
        using (var run = new Run(log, state))
        {
            Assert.Equal(Lines.Length - restart, run.Follower.Poll()); // the checkpoint is in the new file
            second = run.Stop();
        }
        Assert.Empty(first.Intersect(second));
        Assert.Equal(ScanIds().Order(StringComparer.Ordinal), first.Union(second).Order(StringComparer.Ordinal));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void A_crash_while_the_renamed_file_is_open_resumes_with_its_rest()
    {
        using var dir = new TestAlerts.TempDir();
        var (log, state) = NewLog(dir);
        var (rename, late) = (Boundary(0.3), Boundary(0.6));
        using (var run = new Run(log, state))
        {
            Append(log, 0, rename);
            run.Follower.Poll();
            File.Move(log, log + ".1");
            File.WriteAllText(log, "");
            run.Follower.Poll();
            Assert.True(run.Follower.ReadingRenamed);
            run.Follower.Commit(TimeSpan.Zero); // the checkpoint is the renamed file's position
            // the agent dies here (no Stop)
        }
        Append(log + ".1", rename, late); // its writer goes on a little
        Append(log, late, Lines.Length);
        using var restarted = new Run(log, state);
        restarted.Follower.Poll();
        Assert.Equal(Lines.Length - rename, restarted.Follower.Lines); // the rest of the renamed file, then the new one
    }

    [Fact]
    public void Without_a_checkpoint_following_starts_at_the_end_of_the_file()
    {
        using var dir = new TestAlerts.TempDir();
        var log = Path.Combine(dir.Path, "audit.log");
        Append(log, 0, 100);
        using var run = new Run(log, Path.Combine(dir.Path, "state"));
        Assert.Equal(0, run.Follower.Poll());
        Append(log, 100, 130);
        Assert.Equal(30, run.Follower.Poll());
    }

    [Theory]
    [InlineData("syslog:/var/log/syslog", LogFormat.Syslog, "/var/log/syslog")]
    [InlineData("web:/var/log/nginx/access.log", LogFormat.WebAccess, "/var/log/nginx/access.log")]
    [InlineData("/var/log/audit/audit.log", null, "/var/log/audit/audit.log")]
    [InlineData("C:x", null, "C:x")]
    public void A_follow_spec_may_name_the_format(string spec, LogFormat? format, string path) =>
        Assert.Equal((format, path), FileFollower.Parse(spec));
}
