using ImdsWatch.Sources.Auditd.Prefilter;

namespace ImdsWatch.Tests.Sources;

/// <summary>Pass two on its own thread: everything handed over is consumed once, in order, and failures come back.</summary>
public sealed class PassTwoStageTests
{
    [Theory]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(true, PassTwoStage.BatchSize - 1)]
    [InlineData(true, PassTwoStage.BatchSize)]
    [InlineData(true, (6 * PassTwoStage.BatchSize) + 1)]
    [InlineData(false, (6 * PassTwoStage.BatchSize) + 1)]
    public void Items_and_issues_are_consumed_once_in_the_order_they_were_added(bool threaded, int count)
    {
        var seen = new List<(long Line, string? Issue)>();
        using (var stage = new PassTwoStage((in PassTwoItem item) => seen.Add((item.Line, item.Issue)), threaded))
        {
            for (var i = 0; i < count; i++)
            {
                if (i % 7 == 3)
                    stage.Add(new PassTwoItem { Line = i, Issue = $"bad line {i}" });
                else
                    stage.Add(new PassTwoItem { Line = i, Keep = i % 2 == 0 });
            }
            stage.Complete();
        }
        Assert.Equal(count, seen.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(i, seen[i].Line);
            Assert.Equal(i % 7 == 3 ? $"bad line {i}" : null, seen[i].Issue);
        }
    }

    [Fact]
    public void A_failure_of_the_consumer_is_rethrown_to_the_producer_and_stops_it()
    {
        using var stage = new PassTwoStage((in PassTwoItem item) =>
        {
            if (item.Line == 5_000)
                throw new InvalidDataException("detection failed at 5000");
        }, threaded: true);
        var e = Assert.Throws<InvalidDataException>(() =>
        {
            for (var i = 0; i < 10_000_000; i++) // far more than fits in flight: the producer must be stopped, not block
                stage.Add(new PassTwoItem { Line = i });
            stage.Complete();
        });
        Assert.Equal("detection failed at 5000", e.Message);
    }

    [Fact]
    public void An_abandoned_stage_stops_without_consuming_its_backlog()
    {
        var consumed = 0;
        using var release = new ManualResetEventSlim();
        // The first batch is consumed slowly (~1 ms an item): Dispose, called right after the release, comes long before the
        // consumer could reach the next batch (a consumer that ran through its trivial items first made this test flaky).
        var stage = new PassTwoStage((in PassTwoItem _) =>
        {
            release.Wait();
            if (Interlocked.Increment(ref consumed) <= PassTwoStage.BatchSize)
                Thread.Sleep(1);
        }, threaded: true);
        for (var i = 0; i < 4 * PassTwoStage.BatchSize; i++)
            stage.Add(new PassTwoItem { Line = i });
        release.Set();
        stage.Dispose(); // as when pass one fails or the scan is cancelled: returns without Complete
        Assert.True(consumed < 4 * PassTwoStage.BatchSize, $"consumed {consumed}");
    }
}
