using ImdsWatch.Detection;
using ImdsWatch.Events;

namespace ImdsWatch.Tests.Detection;

public sealed class ProcessTrackerTests
{
    private static ProcessExec Exec(int pid, ulong serial) => new()
    {
        Timestamp = DateTimeOffset.UnixEpoch,
        Host = "h",
        Sequence = serial,
        Source = EventOrigin.Auditd,
        Process = new ProcessSnapshot { Pid = pid, Executable = "/bin/x" },
        Evidence = new EvidenceRef("f", 1, "r"),
    };

    [Fact]
    public void An_image_is_visible_within_the_window_whatever_else_was_seen_in_between()
    {
        var busy = new ProcessTracker(window: 100);
        var quiet = new ProcessTracker(window: 100);
        var analysis = CommandAnalysis.Empty("x");
        busy.Record(Exec(1, 1000), analysis);
        quiet.Record(Exec(1, 1000), analysis);
        for (var i = 0; i < 5000; i++)
            busy.Record(Exec(10 + i, 1001 + (ulong)(i % 50)), analysis); // many other processes, all inside the window
        Assert.NotNull(busy.Current("h", 1, 1090));
        Assert.NotNull(quiet.Current("h", 1, 1090));
        Assert.Null(busy.Current("h", 1, 1101));
        Assert.Null(quiet.Current("h", 1, 1101));
    }

    [Fact]
    public void An_image_recorded_unread_reads_its_command_line_as_an_eager_one_would()
    {
        var exec = Exec(7, 10) with
        {
            Process = new ProcessSnapshot { Pid = 7, Executable = "/usr/bin/python3", Args = ["python3", "-m", "http.server", "8080"] },
        };
        var tracker = new ProcessTracker();
        tracker.Record(new TrackedImage(exec, DetectionRules.Default.Analyzer));
        var image = tracker.Current("h", 7, 11)!;
        var eager = DetectionRules.Default.Analyzer.Analyze(exec.Process.Args);
        Assert.Equal(eager.Program, image.Analysis.Program);
        Assert.Equal(eager.Role, image.Analysis.Role);
        Assert.Equal(eager.EffectiveArgs, image.Analysis.EffectiveArgs);
        Assert.Same(image.Analysis, image.Analysis); // worked out once
        Assert.False(DetectionRules.Default.Candidates.MayReference(exec.Process.Args));
        Assert.True(DetectionRules.Default.Candidates.MayReference(["curl", "http://169.254.169.254/latest/meta-data/"]));
    }
}
