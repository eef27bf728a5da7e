using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Tests.Sources;

/// <summary>Which events the full parser must see: hot ones, user-space ones, and the execs the tracker may consult.</summary>
public sealed class RunSelectorTests
{
    private const RunFlags Exec = RunFlags.Syscall | RunFlags.Execve;

    private sealed class Recorder
    {
        private long _offset;
        public List<(long Offset, ulong Serial, bool Keep)> Emitted { get; } = [];
        public RunSelector Selector { get; }

        public Recorder() => Selector = new RunSelector((run, _, keep) => Emitted.Add((run.Offset, run.Serial, keep)));

        public void Add(ulong serial, RunFlags flags, int pid = 0, int ppid = 0, ulong node = 7)
        {
            var run = new RecordRun { Offset = _offset++, Serial = serial, Flags = flags, Pid = pid, ParentPid = ppid, Node = node, Records = 1 };
            Selector.Add(run, run.Offset + 1);
        }

        public ulong[] Kept()
        {
            Selector.Finish();
            return [.. Emitted.Where(e => e.Keep).Select(e => e.Serial)];
        }
    }

    [Fact]
    public void A_hot_event_keeps_the_execs_of_its_process_and_ancestors_and_nothing_else()
    {
        var r = new Recorder();
        r.Add(100, Exec, pid: 10, ppid: 1);                 // grandparent
        r.Add(101, Exec, pid: 20, ppid: 10);                // parent
        r.Add(102, Exec, pid: 30, ppid: 1);                 // unrelated
        r.Add(103, RunFlags.Syscall, pid: 20, ppid: 10);    // the parent's connect elsewhere: no image
        r.Add(104, Exec | RunFlags.Hot, pid: 40, ppid: 20); // curl 169.254.169.254
        Assert.Equal([100UL, 101, 104], r.Kept());
    }

    [Fact]
    public void A_connect_with_no_exec_logged_keeps_its_own_parent()
    {
        var r = new Recorder();
        r.Add(100, Exec, pid: 20, ppid: 1);
        r.Add(101, RunFlags.Syscall | RunFlags.Hot, pid: 40, ppid: 20);
        Assert.Equal([100UL, 101], r.Kept());
    }

    [Fact]
    public void Execs_older_than_the_tracker_window_are_left_out()
    {
        var r = new Recorder();
        r.Add(100, Exec, pid: 20, ppid: 1);
        r.Add(101 + (ulong)RunSelector.Window, Exec | RunFlags.Hot, pid: 40, ppid: 20);
        Assert.Equal([101 + (ulong)RunSelector.Window], r.Kept());
    }

    [Fact]
    public void A_parent_exec_that_follows_the_hot_event_closely_is_kept()
    {
        var r = new Recorder();
        r.Add(200, Exec | RunFlags.Hot, pid: 40, ppid: 20);
        r.Add(205, Exec, pid: 20, ppid: 1);
        r.Add(206 + (ulong)RunSelector.Forward, Exec, pid: 20, ppid: 1);
        Assert.Equal([200UL, 205], r.Kept());
    }

    [Fact]
    public void Events_without_a_syscall_are_kept_whole()
    {
        var r = new Recorder();
        r.Add(300, RunFlags.None);
        r.Add(301, RunFlags.Syscall, pid: 5, ppid: 1);
        Assert.Equal([300UL], r.Kept());
    }

    [Fact]
    public void An_event_split_by_another_is_still_one_event()
    {
        var r = new Recorder();
        r.Add(300, RunFlags.Syscall, pid: 50, ppid: 1);
        r.Add(301, RunFlags.Syscall, pid: 60, ppid: 1);
        r.Add(300, RunFlags.Hot);
        Assert.Equal([300UL, 300], r.Kept());
    }

    [Fact]
    public void An_exec_with_no_arguments_is_hot_when_its_proctitle_may_name_an_endpoint()
    {
        var r = new Recorder();
        r.Add(10, Exec | RunFlags.EmptyArgv | RunFlags.ProctitleMayReference, pid: 5, ppid: 1);
        r.Add(11, Exec | RunFlags.EmptyArgv, pid: 6, ppid: 1);
        Assert.Equal([10UL], r.Kept());
    }

    [Fact]
    public void After_a_reboot_in_the_file_the_new_serials_keep_their_ancestors_and_the_events_open_before_it_are_kept()
    {
        // The events still open when the serials jump are kept: the assembler completes events by records and time, not
        // by serial distance, and may still add records of their exact serials to them.
        var r = new Recorder();
        for (ulong s = 5_000_000; s < 5_000_100; s++)
            r.Add(s, Exec, pid: (int)(s % 1000) + 100, ppid: 1);
        r.Add(10, Exec, pid: 20, ppid: 1);
        r.Add(11, Exec | RunFlags.Hot, pid: 40, ppid: 20);
        r.Add(12, Exec, pid: 41, ppid: 1);
        var kept = r.Kept();
        Assert.Equal(100, kept.Count(s => s >= 5_000_000));
        Assert.Equal([10UL, 11], kept.Where(s => s < 5_000_000).Order().ToArray());
    }

    [Fact]
    public void Events_open_when_the_serials_jump_far_ahead_are_kept()
    {
        var r = new Recorder();
        r.Add(2143, Exec, pid: 20, ppid: 1);
        r.Add(2143 + (ulong)(RunSelector.Window + RunSelector.Margin) + 1, Exec, pid: 21, ppid: 1);
        Assert.Equal([2143UL], r.Kept());
    }

    [Fact]
    public void Only_the_images_that_may_be_current_are_kept_not_every_earlier_exec()
    {
        var r = new Recorder();
        r.Add(100, Exec, pid: 20, ppid: 1);                              // an old image of the shell
        r.Add(101 + (ulong)RunSelector.Margin, Exec, pid: 20, ppid: 1);  // its image when curl runs
        r.Add(102 + (ulong)RunSelector.Margin, Exec | RunFlags.Hot, pid: 40, ppid: 20);
        Assert.Equal([101 + (ulong)RunSelector.Margin, 102 + (ulong)RunSelector.Margin], r.Kept());
    }

    [Fact]
    public void Every_run_comes_out_once_in_file_order_however_many_are_pending()
    {
        // Two hosts, a few long-lived shells, a new pid per command, records a little out of order, 1 % hot.
        var r = new Recorder();
        var random = new Random(5);
        var hot = 0;
        for (var i = 0; i < 200_000; i++)
        {
            var serial = (ulong)(1000 + (i ^ 1)); // pairs swapped: out of order, each serial once
            var isHot = random.Next(100) == 0;
            hot += isHot ? 1 : 0;
            r.Add(serial, isHot ? Exec | RunFlags.Hot : Exec, pid: 10_000 + i, ppid: 100 + random.Next(0, 20), node: (ulong)random.Next(1, 3));
        }
        r.Selector.Finish();
        Assert.Equal(200_000, r.Emitted.Count);
        Assert.Equal(Enumerable.Range(0, 200_000).Select(i => (long)i), r.Emitted.Select(e => e.Offset));
        Assert.Equal(hot, r.Emitted.Count(e => e.Keep));
    }
}
