using Ingest.Silo.Storage.Analytics;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Tests.Infrastructure;

namespace Ingest.Tests.Storage.Analytics;

[Collection(PostgresCollection.Name)]
public sealed class CatalogViewsTests(PostgresFixture postgres)
{
    [Fact]
    public void With_nothing_published_both_views_exist_typed_and_empty()
    {
        using var shared = new TempDirectory();
        using var database = DuckDbDatabase.OpenInMemory(new DuckDbOptions(), shared.Path);
        using var connection = database.Connect();

        connection.Execute(CatalogViews.CreateViews(CatalogSnapshot.Empty, shared.Path, temporary: true));

        Assert.Equal(
            "stream_id VARCHAR, seq BIGINT, received_at TIMESTAMP WITH TIME ZONE, payload JSON",
            AnalyticsTestKit.QueryText(connection, Columns("events")));
        Assert.Equal(
            "id VARCHAR, transport VARCHAR, remote_addr VARCHAR, headers JSON, opened_at TIMESTAMP WITH TIME ZONE, " +
            "closed_at TIMESTAMP WITH TIME ZONE, events BIGINT, bytes BIGINT, rejected BIGINT, duplicates BIGINT, sinks VARCHAR",
            AnalyticsTestKit.QueryText(connection, Columns("streams")));
        Assert.Equal("0", AnalyticsTestKit.QueryText(connection, "SELECT CAST(count(*) AS VARCHAR) FROM events"));
        Assert.Equal("0", AnalyticsTestKit.QueryText(connection, "SELECT CAST(count(*) AS VARCHAR) FROM streams"));
    }

    [Fact]
    public void Views_name_absolute_paths_and_only_the_listed_files()
    {
        var snapshot = new CatalogSnapshot(["events/date=2026-11-21/a.parquet", "events/date=2026-11-21/b.parquet"], 3, "catalog/streams-3.parquet", null);

        var sql = CatalogViews.CreateViews(snapshot, "/srv/shared/", temporary: false);

        Assert.Contains(
            "CREATE OR REPLACE VIEW events AS SELECT stream_id, seq, received_at, payload FROM read_parquet(" +
            "['/srv/shared/events/date=2026-11-21/a.parquet', '/srv/shared/events/date=2026-11-21/b.parquet'], hive_partitioning = false);",
            sql, StringComparison.Ordinal);
        Assert.Contains("CREATE OR REPLACE VIEW streams AS SELECT id, ", sql, StringComparison.Ordinal);
        Assert.Contains("read_parquet('/srv/shared/catalog/streams-3.parquet', hive_partitioning = false);", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("*", sql, StringComparison.Ordinal);
        Assert.StartsWith("CREATE OR REPLACE TEMP VIEW events", CatalogViews.CreateViews(snapshot, "/srv/shared", temporary: true), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_quote_in_the_shared_directory_is_escaped()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, o =>
        {
            o.SharedDirectory = Path.Combine(o.SharedDirectory, "it's shared");
            Directory.CreateDirectory(o.SharedDirectory);
        });
        await kit.AddSegmentAsync("o'brien", 1, 3);

        Assert.Equal(["o'brien:1", "o'brien:2", "o'brien:3"], await kit.EventKeysAsync());
    }

    private static string Columns(string view) =>
        $"SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE {view})";
}
