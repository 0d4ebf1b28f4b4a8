using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Storage.Analytics;

[Collection(PostgresCollection.Name)]
public sealed class FileCollectorTests(PostgresFixture postgres)
{
    // File times are the file system's; the kit's clock starts at the real time, so advancing
    // it by less than the grace keeps a new file, and by twice the grace takes it.
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task A_crash_before_the_commit_leaves_an_orphan_nobody_reads_and_it_goes_after_the_grace()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);
        var connection = await kit.ConnectAsync();
        var live = await kit.AddSegmentAsync("a", 1, 10);
        var orphan = await kit.AddSegmentAsync("ghost", 1, 10, commit: false);
        await kit.Publisher().RunOnceAsync(connection, CancellationToken.None);

        Assert.Equal(AnalyticsTestKit.Keys("a", 1, 10).Order(StringComparer.Ordinal), await kit.EventKeysAsync());
        Assert.Equal("0", (await IndependentReader.QueryAsync(kit.CatalogPath, "select count(*) as n from events where stream_id = 'ghost'"))[0].GetProperty("n").GetString());

        kit.Clock.Advance(Grace - TimeSpan.FromSeconds(10));
        Assert.Equal(0, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).Orphans);
        Assert.True(File.Exists(orphan.File));

        kit.Clock.Advance(Grace);
        Assert.Equal(1, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).Orphans);
        Assert.False(File.Exists(orphan.File));
        Assert.True(File.Exists(live.File));
        Assert.Equal(1, await kit.LiveSegmentsAsync());
    }

    [Fact]
    public async Task A_segment_the_maintainer_is_still_writing_is_no_orphan_however_old()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);
        var connection = await kit.ConnectAsync();
        var merging = await kit.AddSegmentAsync("a", 1, 10, commit: false);
        kit.Clock.Advance(2 * Grace);

        Assert.Equal(0, (await kit.Collector().RunOnceAsync(connection, merging.Path, CancellationToken.None)).Orphans);
        Assert.True(File.Exists(merging.File));
        Assert.Equal(1, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).Orphans);
    }

    [Fact]
    public async Task Retired_segments_are_deleted_with_their_rows_only_after_the_grace()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 2);
        var connection = await kit.ConnectAsync();
        var inputs = new[] { await kit.AddSegmentAsync("a", 1, 10), await kit.AddSegmentAsync("a", 11, 10), await kit.AddSegmentAsync("b", 1, 10) };
        await kit.Compactor().RunOnceAsync(connection, CancellationToken.None);
        await kit.Publisher().RunOnceAsync(connection, CancellationToken.None);
        var keys = await kit.EventKeysAsync();

        Assert.Equal(0, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).RetiredSegments);
        kit.Clock.Advance(Grace - TimeSpan.FromSeconds(1));
        Assert.Equal(0, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).RetiredSegments);
        Assert.All(inputs, s => Assert.True(File.Exists(s.File)));

        kit.Clock.Advance(TimeSpan.FromSeconds(2));
        var collected = await kit.Collector().RunOnceAsync(connection, CancellationToken.None);

        Assert.Equal(3, collected.RetiredSegments);
        Assert.All(inputs, s => Assert.False(File.Exists(s.File)));
        Assert.Equal(1, await kit.Postgres.CountAsync("SELECT count(*) FROM segments"));
        Assert.Single(kit.SegmentFiles());
        Assert.Equal(keys, await kit.EventKeysAsync());
        Assert.Equal("30", (await IndependentReader.QueryAsync(kit.CatalogPath, "select count(*) as n from events"))[0].GetProperty("n").GetString());
    }

    [Fact]
    public async Task A_retired_segment_the_published_catalog_still_lists_is_kept_until_a_publication_drops_it()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o => o.CompactionThreshold = 2);
        var connection = await kit.ConnectAsync();
        var inputs = new[] { await kit.AddSegmentAsync("a", 1, 10), await kit.AddSegmentAsync("a", 11, 10), await kit.AddSegmentAsync("a", 21, 10) };
        await kit.Publisher().RunOnceAsync(connection, CancellationToken.None);
        kit.Clock.Advance(TimeSpan.FromSeconds(1));
        await kit.Compactor().RunOnceAsync(connection, CancellationToken.None);

        kit.Clock.Advance(2 * Grace);
        Assert.Equal(0, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).RetiredSegments);
        Assert.Equal("30", (await IndependentReader.QueryAsync(kit.CatalogPath, "select count(*) as n from events"))[0].GetProperty("n").GetString());

        await kit.Publisher().RunOnceAsync(connection, CancellationToken.None);
        kit.Clock.Advance(Grace + TimeSpan.FromSeconds(1));
        Assert.Equal(3, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).RetiredSegments);
        Assert.All(inputs, s => Assert.False(File.Exists(s.File)));
    }

    [Fact]
    public async Task Superseded_streams_snapshots_and_leftover_temp_files_go_after_the_grace_and_the_current_snapshot_stays()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);
        var connection = await kit.ConnectAsync();
        var publisher = kit.Publisher();
        await kit.SetStreamAsync("a", 1);
        await publisher.RunOnceAsync(connection, CancellationToken.None);
        await kit.SetStreamAsync("a", 2);
        await publisher.RunOnceAsync(connection, CancellationToken.None);
        // A publisher that crashed: a half-written catalog, and a snapshot it never committed.
        await File.WriteAllTextAsync(Path.Combine(kit.SharedDirectory, "catalog", "catalog.duckdb.0123.tmp"), "half");
        await File.WriteAllTextAsync(Path.Combine(kit.SharedDirectory, "catalog", "streams-9.parquet"), "never committed");
        Assert.Equal(["catalog.duckdb.0123.tmp", "streams-1.parquet", "streams-2.parquet", "streams-9.parquet"], kit.CatalogDirectoryFiles());

        Assert.Equal(0, (await kit.Collector().RunOnceAsync(connection, CancellationToken.None)).Total);

        kit.Clock.Advance(2 * Grace);
        var collected = await kit.Collector().RunOnceAsync(connection, CancellationToken.None);

        Assert.Equal((2, 1), (collected.StreamsSnapshots, collected.TempFiles));
        Assert.Equal(["streams-2.parquet"], kit.CatalogDirectoryFiles());
        Assert.Equal("2", (await IndependentReader.QueryAsync(kit.CatalogPath, "select events from streams"))[0].GetProperty("events").GetString());
    }
}
