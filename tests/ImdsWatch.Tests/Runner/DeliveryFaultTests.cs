using System.IO.Compression;
using ImdsWatch.Alerts;
using ImdsWatch.Config;
using ImdsWatch.Runner;
using ImdsWatch.Sinks;
using ImdsWatch.Store;
using ImdsWatch.Tests.Support;
using static ImdsWatch.Tests.Support.Audit;

namespace ImdsWatch.Tests.Runner;

/// <summary>
/// What `run` delivers when logs rotate, runs come late, crash or overlap: every scenario counts the attacks
/// written (sent), the distinct alerts printed over all runs (raised) and the alerts printed more than once
/// (duplicated). Each attack is one exec of curl at the credentials path: one alert with its own id.
/// </summary>
public sealed class DeliveryFaultTests : IDisposable
{
    private const double T0 = 1_700_000_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("imdswatch-run-").FullName;
    private readonly Ledger _printed = new();
    private ulong _serial = 100;
    private int _pid = 3000;
    private int _sent;

    private string Log => Path.Combine(_dir, "audit.log");

    private string StatePath => Path.Combine(_dir, "state.db");

    private RunReport Run(double now, int maxAlerts = 100, int maxHeldBack = 10_000, IAlertSink? output = null)
    {
        using var store = StateStore.Open(StatePath);
        var runner = new ScheduledRunner(store, EffectiveConfig.Default with { Host = "web-1" },
            new RunOptions { MaxAlerts = maxAlerts, MaxHeldBack = maxHeldBack, LockWait = TimeSpan.FromSeconds(30) });
        return runner.RunOnce([Log], DateTimeOffset.FromUnixTimeMilliseconds((long)(now * 1000)), output ?? _printed);
    }

    /// <summary>Attacks at the given times, counted as sent.</summary>
    private string Attacks(params double[] times)
    {
        _sent += times.Length;
        return string.Concat(times.Select(t => Exec(_serial++, _pid++, "/usr/bin/curl", ["curl", "-s", Week.Creds], time: t)));
    }

    private void Append(string text, string? path = null) => File.AppendAllText(path ?? Log, text);

    private static void Gzip(string from, string to)
    {
        using (var input = File.OpenRead(from))
        using (var output = new GZipStream(File.Create(to), CompressionLevel.Fastest))
            input.CopyTo(output);
        File.Delete(from);
    }

    /// <summary>auditd's rotation: audit.log.N → N+1 (the oldest past <paramref name="keep"/> deleted), audit.log → .1, a new audit.log.</summary>
    private void Rotate(int keep = 99)
    {
        for (var n = keep; n >= 1; n--)
        {
            var from = $"{Log}.{n}";
            if (!File.Exists(from))
                continue;
            if (n == keep)
                File.Delete(from);
            else
                File.Move(from, $"{Log}.{n + 1}");
        }
        File.Move(Log, Log + ".1");
        File.WriteAllText(Log, "");
    }

    private void AssertDelivered(int lost = 0)
    {
        Assert.Equal(_sent - lost, _printed.Raised);
        Assert.Equal(0, _printed.Duplicated);
        Assert.Equal(_sent - lost, new AlertRepository(OpenState()).Count(includeAcknowledged: true));
    }

    private StateStore OpenState()
    {
        var store = StateStore.Open(StatePath);
        _opened.Add(store);
        return store;
    }

    private readonly List<StateStore> _opened = [];

    [Fact]
    public void Rotation_by_rename_raises_the_unread_tail_of_the_rotated_file_and_the_new_file()
    {
        Append(Attacks(T0 + 60));
        Run(T0 + 100);
        Append(Attacks(T0 + 200, T0 + 210)); // unread when the log rotates
        Rotate();
        Append(Attacks(T0 + 300));
        var report = Run(T0 + 400);
        Assert.Empty(report.Warnings);
        AssertDelivered(); // sent 4, raised 4, duplicated 0
    }

    [Fact]
    public void A_log_compressed_after_rotation_is_read_from_the_checkpoint_inside_the_gzip()
    {
        Append(Attacks(T0 + 60, T0 + 70));
        Run(T0 + 100);
        Append(Attacks(T0 + 200));
        Rotate();
        Gzip(Log + ".1", Log + ".1.gz");
        Append(Attacks(T0 + 300));
        var report = Run(T0 + 400);
        Assert.Empty(report.Warnings);
        Assert.Contains(report.Raised, a => a.Evidence[0].File == Log + ".1.gz" && a.Evidence[0].Line == 11);
        AssertDelivered(); // sent 4, raised 4, duplicated 0
    }

    [Fact]
    public void Dateext_names_are_followed_oldest_date_first()
    {
        Append(Attacks(T0 + 60));
        Run(T0 + 100);
        Append(Attacks(T0 + 200));
        File.Move(Log, Log + "-20231114");
        Append(Attacks(T0 + 300));
        File.Move(Log, Log + "-20231115");
        Gzip(Log + "-20231114", Log + "-20231114.gz");
        Append(Attacks(T0 + 400));
        var report = Run(T0 + 500);
        Assert.Empty(report.Warnings);
        Assert.Equal([Log + "-20231114.gz", Log + "-20231115", Log], report.Scan.Files);
        AssertDelivered(); // sent 4, raised 4, duplicated 0
    }

    [Fact]
    public void Twenty_five_rotations_between_two_runs_lose_nothing()
    {
        Append(Attacks(T0 + 10));
        Run(T0 + 20);
        for (var i = 0; i < 25; i++)
        {
            Append(Attacks(T0 + 30 + i));
            Rotate();
        }
        Append(Attacks(T0 + 100));
        var report = Run(T0 + 200);
        Assert.Empty(report.Warnings);
        Assert.Equal(26, report.Scan.Files.Count);
        AssertDelivered(); // sent 27, raised 27, duplicated 0
    }

    [Fact]
    public void A_checkpointed_file_deleted_by_num_logs_is_reported_lost_and_every_newer_file_is_read()
    {
        Append(Attacks(T0 + 10));
        Run(T0 + 20);
        Append(Attacks(T0 + 30)); // unread, in the file auditd deletes
        Rotate(keep: 3);
        Append(Attacks(T0 + 40)); // still there, in audit.log.2 at the next run
        Rotate(keep: 3);
        Append(Attacks(T0 + 50));
        Rotate(keep: 3);
        Rotate(keep: 3); // the checkpointed file (audit.log.3 → deleted)
        Append(Attacks(T0 + 60));
        var report = Run(T0 + 100);
        Assert.Contains(report.Warnings, w => w.Contains("is gone", StringComparison.Ordinal) && w.Contains("lost", StringComparison.Ordinal));
        AssertDelivered(lost: 1); // sent 5, raised 4 (the one in the deleted tail is lost, with the warning), duplicated 0
    }

    [Fact]
    public void A_new_audit_log_on_the_old_inode_is_read_from_its_start_not_resumed_at_the_old_offset()
    {
        Append(Attacks(T0 + 10, T0 + 11));
        Run(T0 + 20);
        // The log is deleted and a new one made; ext4 hands the freed inode to the next file more often than not.
        // Whether it does or not, the new file is longer than the old offset and must be read from its first line.
        File.Delete(Log);
        Append(Attacks(T0 + 30, T0 + 31, T0 + 32, T0 + 33));
        var report = Run(T0 + 100);
        Assert.DoesNotContain(report.Warnings, w => w.Contains("shorter", StringComparison.Ordinal));
        Assert.Equal(1, report.Raised.Min(a => a.Evidence[0].Line));
        AssertDelivered(); // sent 6, raised 6, duplicated 0
    }

    [Fact]
    public void Copytruncate_reads_the_unread_tail_from_the_copy_and_the_regrown_file_from_its_start()
    {
        Append(Attacks(T0 + 10));
        Run(T0 + 20);
        Append(Attacks(T0 + 30)); // written just before the truncation
        File.Copy(Log, Log + ".1");
        using (var f = new FileStream(Log, FileMode.Open, FileAccess.Write))
            f.SetLength(0);
        Append(Attacks(T0 + 40, T0 + 41, T0 + 42, T0 + 43)); // regrows past the old size before the next run
        var report = Run(T0 + 100);
        Assert.Empty(report.Warnings);
        AssertDelivered(); // sent 6, raised 6, duplicated 0
    }

    [Fact]
    public void A_truncation_without_a_copy_reports_the_unread_tail_as_lost()
    {
        Append(Attacks(T0 + 10));
        Run(T0 + 20);
        Append(Attacks(T0 + 30)); // lost: truncated before any run read it, and no copy kept
        _sent--;
        using (var f = new FileStream(Log, FileMode.Open, FileAccess.Write))
            f.SetLength(0);
        Append(Attacks(T0 + 40, T0 + 41, T0 + 42));
        var report = Run(T0 + 100);
        Assert.Contains(report.Warnings, w => w.Contains("truncated in place", StringComparison.Ordinal) && w.Contains("lost", StringComparison.Ordinal));
        AssertDelivered(); // sent 5, raised 4, duplicated 0, 1 reported lost
    }

    [Fact]
    public void A_run_an_hour_late_catches_up_on_what_it_missed_with_a_warning()
    {
        Append(Attacks(T0 + 10));
        Run(T0 + 20);
        Append(Attacks(T0 + 100, T0 + 600, T0 + 3000));
        var report = Run(T0 + 20 + 3600 + 900); // 75 min later; the look-back is 45
        Assert.Contains(report.Warnings, w => w.StartsWith("late run", StringComparison.Ordinal) && w.Contains("catching up", StringComparison.Ordinal));
        AssertDelivered(); // sent 4, raised 4, duplicated 0
    }

    [Fact]
    public void A_run_days_late_catches_up_over_a_bounded_window_and_says_what_it_did_not_evaluate()
    {
        Append(Attacks(T0 + 10));
        Run(T0 + 20);
        Append(Attacks(T0 + 100)); // 3 days before the next run: outside the 24 h catch-up
        _sent--;
        Append(Attacks(T0 + (3 * 86400) - 3600));
        var report = Run(T0 + (3 * 86400));
        Assert.Contains(report.Warnings, w => w.Contains("are not raised", StringComparison.Ordinal));
        AssertDelivered(); // sent 3, raised 2, 1 not evaluated and said so
    }

    [Fact]
    public void Alerts_held_back_by_max_alerts_are_raised_by_later_runs_even_after_they_leave_the_look_back()
    {
        Append(Attacks([.. Enumerable.Range(0, 25).Select(i => T0 + 60 + i)]));
        var first = Run(T0 + 100, maxAlerts: 10);
        Assert.Equal((10, 15), (first.Raised.Count, first.HeldBack));
        Run(T0 + 100 + 7200, maxAlerts: 10); // two hours on: out of the look-back, still in the queue
        var third = Run(T0 + 100 + 7200 + 900, maxAlerts: 10);
        Assert.Equal((5, 0), (third.Raised.Count, third.HeldBack));
        AssertDelivered(); // sent 25, raised 25, duplicated 0
    }

    [Fact]
    public void Alerts_the_held_back_queue_has_no_room_for_are_counted_as_dropped()
    {
        Append(Attacks([.. Enumerable.Range(0, 30).Select(i => T0 + 60 + i)]));
        var first = Run(T0 + 100, maxAlerts: 10, maxHeldBack: 5);
        Assert.Equal((10, 5, 15), (first.Raised.Count, first.HeldBack, first.Dropped));
        Assert.Contains(first.Warnings, w => w.StartsWith("15 alert(s) dropped", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_that_dies_after_printing_and_before_storing_prints_the_same_alerts_again_next_time()
    {
        Append(Attacks(T0 + 10, T0 + 11, T0 + 12));
        Assert.Throws<IOException>(() => Run(T0 + 20, output: new DiesAfterPrinting(_printed)));
        Run(T0 + 20 + 900);
        Assert.Equal(3, _printed.Raised);
        Assert.Equal(3, _printed.Duplicated); // at least once: printed twice, none lost
        Assert.Equal(3, new AlertRepository(OpenState()).Count(includeAcknowledged: true));
    }

    [Fact]
    public void Concurrent_runs_on_one_state_take_turns_and_raise_each_alert_once()
    {
        for (var trial = 0; trial < 8; trial++)
        {
            Append(Attacks([.. Enumerable.Range(0, 20).Select(i => T0 + (trial * 100) + i)]));
            var now = T0 + (trial * 100) + 50;
            Parallel.For(0, 3, _ => Run(now));
        }
        AssertDelivered(); // 8 trials of 3 runs at once: sent 160, raised 160, duplicated 0
    }

    [Fact]
    public void A_run_gives_up_with_a_message_when_another_holds_the_state_too_long()
    {
        using var held = RunLock.Take(StatePath, TimeSpan.Zero);
        using var store = StateStore.Open(StatePath);
        var runner = new ScheduledRunner(store, EffectiveConfig.Default, new RunOptions { LockWait = TimeSpan.FromMilliseconds(300) });
        var e = Assert.Throws<IOException>(() => runner.RunOnce([Log], DateTimeOffset.UnixEpoch, _printed));
        Assert.Contains("another imdswatch run is using this state", e.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var s in _opened)
            s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Every alert printed over all runs.</summary>
    private sealed class Ledger : IAlertSink
    {
        private readonly List<string> _ids = [];

        public int Raised => _ids.Distinct(StringComparer.Ordinal).Count();

        public int Duplicated => _ids.Count - Raised;

        public void Emit(Alert alert)
        {
            lock (_ids)
                _ids.Add(alert.Id);
        }

        public void Complete()
        {
        }
    }

    /// <summary>Prints, then the process "dies" before the run stores anything (the kill -9 window).</summary>
    private sealed class DiesAfterPrinting(IAlertSink inner) : IAlertSink
    {
        public void Emit(Alert alert) => inner.Emit(alert);

        public void Complete() => throw new IOException("killed");
    }
}
