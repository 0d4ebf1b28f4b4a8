using Ingest.Tests.Infrastructure;
using static Ingest.Tests.Storage.DuckDb.TestStreams;
using static Ingest.Tests.Storage.Postgres.PostgresStreams;

namespace Ingest.Tests.Storage.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PostgresRetentionTests(PostgresFixture postgres)
{
    private static readonly DateTimeOffset Day1 = new(2026, 11, 21, 23, 59, 59, TimeSpan.Zero);

    [Fact]
    public async Task Events_go_to_one_partition_per_day_and_retention_drops_only_whole_old_days()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres, o => o.Retention = TimeSpan.FromDays(1));
        var clock = new SettableClock(Day1);
        await using (var sink = kit.Sink(clock))
        {
            var old = Flush(NewStream(), Batch(Day1, Events(1, 3)), Batch(Day1.AddSeconds(2), Events(4, 3)));
            await sink.WriteAsync(old, CancellationToken.None);
            clock.Now = Day1.AddDays(2);
            await sink.WriteAsync(Flush(NewStream(), Batch(Day1.AddDays(2), Events(1, 5))), CancellationToken.None);
        }

        Assert.Equal(["events_20261121", "events_20261122", "events_20261123"], await kit.PartitionsAsync());
        Assert.Equal(3, await kit.CountAsync("SELECT count(*) FROM events_20261122"));
        Assert.Equal(5, await kit.CountAsync("SELECT count(*) FROM events_20261123"));

        // The cutoff falls inside the 23rd: the 21st and 22nd are wholly older, the 23rd is not.
        var dropped = await kit.Retention().RunOnceAsync(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero), CancellationToken.None);

        Assert.Equal(2, dropped);
        Assert.Equal(["events_20261123"], await kit.PartitionsAsync());
        Assert.Equal(5, await kit.CountAsync("SELECT count(*) FROM events"));
        // The first stream's row was last written on the 21st, the second's on the 23rd.
        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM streams"));
        Assert.Equal(5, await kit.CountAsync("SELECT events FROM streams"));
    }

    [Fact]
    public async Task Nodes_running_retention_at_once_do_not_get_in_each_others_way()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres, o => o.Retention = TimeSpan.FromDays(1));
        await using (var sink = kit.Sink())
        {
            for (var day = 0; day < 6; day++)
                await sink.WriteAsync(Flush(NewStream(), Batch(Day1.AddDays(day), Events(1, 2))), CancellationToken.None);
        }
        var now = Day1.AddDays(30);

        var dropped = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => kit.Retention().RunOnceAsync(now, CancellationToken.None)));

        Assert.Equal(6, dropped.Sum());
        Assert.Empty(await kit.PartitionsAsync());
        Assert.Equal(0, await kit.Retention().RunOnceAsync(now, CancellationToken.None));
    }

    [Fact]
    public async Task A_writer_recreates_a_day_retention_dropped_under_it()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres, o => o.Retention = TimeSpan.FromDays(1));
        await using var sink = kit.Sink();
        await sink.WriteAsync(Flush(NewStream(), Batch(Day1, Events(1, 2))), CancellationToken.None);
        Assert.Equal(1, await kit.Retention().RunOnceAsync(Day1.AddDays(5), CancellationToken.None));

        await sink.WriteAsync(Flush(NewStream(), Batch(Day1, Events(1, 3))), CancellationToken.None);

        Assert.Equal(["events_20261121"], await kit.PartitionsAsync());
        Assert.Equal(3, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(0, sink.Counters.FailedCommits);
    }
}
