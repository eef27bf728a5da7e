using ImdsWatch.Pipeline;

namespace ImdsWatch.Tests.Agent;

public sealed class AnomalyBudgetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_budget_is_one_hundred_anomaly_alerts_per_fifteen_minutes_of_event_time()
    {
        var budget = new AnomalyBudget();
        Assert.Equal(100, budget.Limit);
        Assert.Equal(TimeSpan.FromMinutes(15), budget.Period);
    }

    [Fact]
    public void Past_the_budget_anomaly_alerts_are_held_back_and_counted_until_the_period_moves_on()
    {
        var budget = new AnomalyBudget();
        var allowed = Enumerable.Range(0, 150).Count(i => budget.TrySpend(T0.AddSeconds(i)));
        Assert.Equal(100, allowed);
        Assert.Equal(50, budget.HeldBack);

        Assert.False(budget.TrySpend(T0.AddMinutes(14))); // the first 100 are still inside the period
        Assert.True(budget.TrySpend(T0.AddMinutes(15))); // the first one has left it: room for one
        Assert.False(budget.TrySpend(T0.AddMinutes(15)));
        Assert.Equal(52, budget.HeldBack);
        Assert.Equal(99, Enumerable.Range(0, 200).Count(i => budget.TrySpend(T0.AddMinutes(15).AddSeconds(100 + i))));
    }
}
