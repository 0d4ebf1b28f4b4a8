using Ingest.Silo.Storage.Analytics;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Tests.Infrastructure;
using static Ingest.Tests.Storage.Analytics.AnalyticsTestKit;

namespace Ingest.Tests.Storage.Analytics;

[Collection(PostgresCollection.Name)]
public sealed class SegmentCompactorTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Merges_a_crowded_level_into_one_segment_a_level_up_with_every_event_once()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 4);
        var day = new DateTimeOffset(2026, 11, 20, 23, 59, 0, TimeSpan.Zero);
        var segments = new List<TestSegment>();
        var expected = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            // Two streams interleaved across segments, the first one received the day before.
            var stream = i % 2 == 0 ? "s-even" : "s-odd";
            segments.Add(await kit.AddSegmentAsync(stream, 1 + (i / 2 * 100), 100, day.AddMinutes(i)));
            expected.AddRange(Keys(stream, 1 + (i / 2 * 100), 100));
        }
        Assert.Equal(Sorted(expected), await kit.EventKeysAsync());

        var outcome = await kit.Compactor().RunOnceAsync(await kit.ConnectAsync(), CancellationToken.None);

        Assert.Equal(CompactionOutcome.Compacted, outcome);
        Assert.Equal(Sorted(expected), await kit.EventKeysAsync());
        var live = Assert.Single(await kit.Postgres.RowsAsync(
            "SELECT path, events, bytes, min_received_at, max_received_at, level, created_by FROM segments WHERE retired_at IS NULL"));
        var path = (string)live[0]!;
        Assert.StartsWith("events/date=2026-11-20/", path, StringComparison.Ordinal);
        Assert.EndsWith(".parquet", path, StringComparison.Ordinal);
        Assert.Equal(600L, live[1]);
        Assert.Equal(new FileInfo(Path.Combine(kit.SharedDirectory, path)).Length, live[2]);
        Assert.Equal(segments.Min(s => s.MinReceivedAt), new DateTimeOffset((DateTime)live[3]!));
        Assert.Equal(segments.Max(s => s.MaxReceivedAt), new DateTimeOffset((DateTime)live[4]!));
        Assert.Equal(1, live[5]);
        Assert.Equal("test-node", live[6]);
        Assert.Equal(6, await kit.Postgres.CountAsync("SELECT count(*) FROM segments WHERE retired_at IS NOT NULL"));
    }

    [Fact]
    public async Task The_merged_file_is_sorted_by_stream_and_sequence()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 2);
        await kit.AddSegmentAsync("b", 11, 10);
        await kit.AddSegmentAsync("a", 1, 10);
        await kit.AddSegmentAsync("b", 1, 10);

        await kit.Compactor().RunOnceAsync(await kit.ConnectAsync(), CancellationToken.None);

        var path = (string)(await kit.Postgres.RowsAsync("SELECT path FROM segments WHERE retired_at IS NULL"))[0][0]!;
        using var database = DuckDbDatabase.OpenInMemory(kit.DuckDb, kit.SharedDirectory);
        using var connection = database.Connect();
        // No ORDER BY: the file's own order, as a reader scanning it gets it.
        var inFile = QueryText(connection, $"SELECT string_agg(stream_id || ':' || seq, ',') FROM read_parquet('{Path.Combine(kit.SharedDirectory, path)}')");
        Assert.Equal(string.Join(',', Keys("a", 1, 10).Concat(Keys("b", 1, 20))), inFile);
    }

    [Fact]
    public async Task Leaves_levels_at_or_under_the_threshold_alone()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 3);
        for (var i = 0; i < 3; i++)
            await kit.AddSegmentAsync("s", 1 + (i * 10), 10);

        Assert.Equal(CompactionOutcome.NothingToDo, await kit.Compactor().RunOnceAsync(await kit.ConnectAsync(), CancellationToken.None));
        Assert.Equal(3, await kit.LiveSegmentsAsync());
        Assert.Equal(3, kit.SegmentFiles().Length);
    }

    [Fact]
    public async Task Takes_the_oldest_segments_of_the_lowest_crowded_level_up_to_the_maximum()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o =>
        {
            o.CompactionThreshold = 2;
            o.CompactionMaxInputs = 3;
        });
        var high = new List<TestSegment>();
        for (var i = 0; i < 4; i++)
            high.Add(await kit.AddSegmentAsync("high", 1 + (i * 10), 10, level: 2));
        var low = new List<TestSegment>();
        for (var i = 0; i < 5; i++)
            low.Add(await kit.AddSegmentAsync("low", 1 + (i * 10), 10, level: 1));
        // Level 0 is not crowded, so level 1 is the lowest that is.
        await kit.AddSegmentAsync("zero", 1, 10);

        await kit.Compactor().RunOnceAsync(await kit.ConnectAsync(), CancellationToken.None);

        var retired = (await kit.Postgres.RowsAsync("SELECT id FROM segments WHERE retired_at IS NOT NULL ORDER BY created_at")).Select(r => (Guid)r[0]!);
        Assert.Equal(low.Take(3).Select(s => s.Id), retired);
        Assert.Equal(1, await kit.Postgres.CountAsync("SELECT count(*) FROM segments WHERE retired_at IS NULL AND level = 2 AND created_by = 'test-node'"));
    }

    [Fact]
    public async Task Two_compactors_at_once_still_list_every_event_exactly_once()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 2);
        var expected = new List<string>();
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                var stream = $"s{i % 3}";
                var first = 1 + (round * 1000) + (i * 10);
                await kit.AddSegmentAsync(stream, first, 10);
                expected.AddRange(Keys(stream, first, 10));
            }
            var filesBefore = kit.SegmentFiles().Length;
            var first1 = kit.Compactor();
            var second = kit.Compactor();
            var connections = new[] { await kit.ConnectAsync(), await kit.ConnectAsync() };
            using var start = new Barrier(2);

            var outcomes = await Task.WhenAll(
                Task.Run(() => { start.SignalAndWait(); return first1.RunOnceAsync(connections[0], CancellationToken.None); }),
                Task.Run(() => { start.SignalAndWait(); return second.RunOnceAsync(connections[1], CancellationToken.None); }));

            Assert.Equal(Sorted(expected), await kit.EventKeysAsync());
            // One merge of the level wins; the other finds its inputs retired (or, if it came
            // late, nothing to do), and its file is gone.
            Assert.Single(outcomes, o => o == CompactionOutcome.Compacted);
            Assert.Equal(filesBefore + 1, kit.SegmentFiles().Length);
            Assert.Equal(await kit.Postgres.CountAsync("SELECT count(*) FROM segments"), kit.SegmentFiles().Length);
        }
    }

    [Fact]
    public async Task A_merge_whose_inputs_were_retired_meanwhile_is_dropped_with_its_file()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 2);
        for (var i = 0; i < 3; i++)
            await kit.AddSegmentAsync("s", 1 + (i * 10), 10);
        var connection = await kit.ConnectAsync();
        // A maintainer that lost its lease mid-merge (a stale leader) and the one that took over.
        var stale = kit.Compactor();
        var current = kit.Compactor();
        var stalePlan = (await stale.PlanAsync(connection, CancellationToken.None))!;
        var staleBytes = stale.Merge(stalePlan, CancellationToken.None);

        Assert.Equal(CompactionOutcome.Compacted, await current.RunOnceAsync(connection, CancellationToken.None));
        Assert.Equal(CompactionOutcome.Superseded, await stale.CommitAsync(connection, stalePlan, staleBytes, CancellationToken.None));

        Assert.False(File.Exists(stalePlan.File));
        Assert.Equal(1, await kit.LiveSegmentsAsync());
        Assert.Equal(4, kit.SegmentFiles().Length);
        Assert.Equal(Sorted(Keys("s", 1, 30)), await kit.EventKeysAsync());
    }

    [Fact]
    public async Task A_failed_merge_leaves_no_file_and_the_inputs_live()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 2);
        await kit.AddSegmentAsync("s", 1, 10);
        var lost = await kit.AddSegmentAsync("s", 11, 10);
        await kit.AddSegmentAsync("s", 21, 10);
        File.Delete(lost.File);

        var connection = await kit.ConnectAsync();
        await Assert.ThrowsAsync<DuckDbException>(() => kit.Compactor().RunOnceAsync(connection, CancellationToken.None));

        Assert.Equal(3, await kit.LiveSegmentsAsync());
        Assert.Equal(2, kit.SegmentFiles().Length);
    }
}
