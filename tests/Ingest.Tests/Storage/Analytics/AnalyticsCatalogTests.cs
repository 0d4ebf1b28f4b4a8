using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Storage.Analytics;

[Collection(PostgresCollection.Name)]
public sealed class AnalyticsCatalogTests(PostgresFixture postgres)
{
    [Fact]
    public async Task An_empty_catalog_lists_nothing()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);

        var snapshot = await kit.Catalog().ReadAsync(CancellationToken.None);

        Assert.Empty(snapshot.SegmentPaths);
        Assert.Equal(0, snapshot.Generation);
        Assert.Null(snapshot.StreamsPath);
        Assert.Null(snapshot.PublishedAt);
    }

    [Fact]
    public async Task Lists_live_segments_oldest_events_first_and_the_current_streams_snapshot()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres);
        var now = kit.Time.GetUtcNow();
        var late = await kit.AddSegmentAsync("a", 1, 2, now.AddMinutes(-1));
        var early = await kit.AddSegmentAsync("b", 1, 2, now.AddMinutes(-5));
        var retired = await kit.AddSegmentAsync("c", 1, 2, now.AddMinutes(-9));
        await kit.Postgres.ExecuteAsync($"UPDATE segments SET retired_at = now() WHERE id = '{retired.Id}'");
        await kit.Postgres.ExecuteAsync("INSERT INTO analytics_catalog VALUES (1, 7, 'catalog/streams-7.parquet', '2026-11-21 12:00:00+00')");

        var snapshot = await kit.Catalog().ReadAsync(CancellationToken.None);

        Assert.Equal([early.Path, late.Path], snapshot.SegmentPaths);
        Assert.Equal(7, snapshot.Generation);
        Assert.Equal("catalog/streams-7.parquet", snapshot.StreamsPath);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero), snapshot.PublishedAt);
    }
}
