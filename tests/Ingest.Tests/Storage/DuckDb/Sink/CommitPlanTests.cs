using Ingest.Silo.Storage.DuckDb.Sink;

namespace Ingest.Tests.Storage.DuckDb.Sink;

public sealed class CommitPlanTests
{
    private const long Group = 8192;

    [Fact]
    public void Without_row_groups_everything_goes_in_one_commit() =>
        Assert.Equal(CommitPlan.All, CommitPlan.For(held: 100, heldMayWait: true, taken: 20_000, expected: 50_000, rowGroup: 0, mayHold: true));

    [Fact]
    public void A_waiting_caller_gets_everything_in_one_commit() =>
        Assert.Equal(CommitPlan.All, CommitPlan.For(0, true, 20_000, 50_000, Group, mayHold: false));

    [Fact]
    public void The_rest_waits_when_what_comes_next_would_complete_a_row_group() =>
        Assert.Equal(new CommitPlan(16_384, 0), CommitPlan.For(0, true, 20_000, expected: 5_000, Group, true));

    [Fact]
    public void The_rest_goes_at_once_when_too_little_is_coming() =>
        Assert.Equal(new CommitPlan(16_384, long.MaxValue), CommitPlan.For(0, true, 20_000, expected: 1_000, Group, true));

    [Fact]
    public void Less_than_a_row_group_waits_whole_when_more_is_coming() =>
        Assert.Equal(new CommitPlan(0, 0), CommitPlan.For(held: 3_000, heldMayWait: true, taken: 2_000, expected: 4_000, Group, true));

    [Fact]
    public void Events_that_waited_their_turn_go_and_the_new_ones_wait() =>
        Assert.Equal(new CommitPlan(0, 3_000), CommitPlan.For(held: 3_000, heldMayWait: false, taken: 2_000, expected: 7_000, Group, true));

    [Fact]
    public void Events_that_waited_their_turn_take_the_new_ones_along_when_little_is_coming() =>
        Assert.Equal(CommitPlan.All, CommitPlan.For(held: 3_000, heldMayWait: false, taken: 2_000, expected: 1_000, Group, true));

    [Fact]
    public void Held_events_inside_the_row_groups_leave_only_new_ones_to_wait() =>
        Assert.Equal(new CommitPlan(8_192, 0), CommitPlan.For(held: 3_000, heldMayWait: false, taken: 6_000, expected: 7_500, Group, true));
}
