using Ingest.Silo.Storage.DuckDb.Sink;

namespace Ingest.Tests.Storage.DuckDb.Sink;

/// <summary>The hand-over of the events half between the writer and the checkpointer.</summary>
public sealed class EventHalvesTests
{
    [Fact]
    public void A_switch_sends_the_writer_to_the_other_table_and_back()
    {
        var halves = new EventHalves();

        Assert.Equal("events_a", EventHalves.TableOf(halves.Current));
        Assert.Equal("events_b", EventHalves.TableOf(halves.Switch()));
        Assert.Equal("events_b", EventHalves.TableOf(halves.Current));
        Assert.Equal("events_a", EventHalves.TableOf(halves.Switch()));
    }

    [Fact]
    public async Task The_wait_ends_when_the_writer_commits_into_the_new_half()
    {
        var halves = new EventHalves();
        halves.Committed(halves.Current);
        var generation = halves.Switch();

        var writer = Task.Run(async () =>
        {
            await Task.Delay(50);
            halves.Committed(generation);
        });

        Assert.True(halves.WaitForCommit(generation, TimeSpan.FromSeconds(30)));
        await writer;
    }

    [Fact]
    public void A_commit_into_the_old_half_does_not_end_the_wait()
    {
        var halves = new EventHalves();
        var old = halves.Current;
        var generation = halves.Switch();

        // A commit that began before the switch still went to the old half.
        halves.Committed(old);

        Assert.False(halves.WaitForCommit(generation, TimeSpan.FromMilliseconds(50)));
        halves.Committed(generation);
        Assert.True(halves.WaitForCommit(generation, TimeSpan.Zero));
    }
}
