using System.Diagnostics;
using Ingest.Silo.Storage.Analytics;
using Ingest.Silo.Storage.Postgres;
using Ingest.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Storage.Analytics;

[Collection(PostgresCollection.Name)]
public sealed class AnalyticsMaintenanceServiceTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_committed_segment_is_in_the_published_catalog_within_ten_seconds()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, time: TimeProvider.System);
        using var node = Node(kit);
        await node.StartAsync(CancellationToken.None);
        await WaitForEventsAsync(kit, 0);

        var committed = Stopwatch.StartNew();
        await kit.AddSegmentAsync("a", 1, 10);
        await WaitForEventsAsync(kit, 10);

        Assert.InRange(committed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        await node.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task One_node_maintains_at_a_time_and_another_takes_over_when_it_stops()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, Fast, TimeProvider.System);
        using var first = Node(kit);
        using var second = Node(kit);
        for (var i = 0; i < 4; i++)
            await kit.AddSegmentAsync("a", 1 + (i * 10), 10);
        await first.StartAsync(CancellationToken.None);
        await WaitForAsync(async () => await kit.LiveSegmentsAsync() == 1);
        await WaitForEventsAsync(kit, 40);
        await second.StartAsync(CancellationToken.None);
        await Task.Delay(300);

        Assert.Equal(2, await kit.Postgres.CountAsync($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{MaintainerLease.ApplicationName}' AND datname = current_database()"));
        Assert.Equal(1, await MaintainerLocksAsync(kit));

        await first.StopAsync(CancellationToken.None);
        await kit.AddSegmentAsync("b", 1, 5);
        await WaitForEventsAsync(kit, 45);
        Assert.Equal(1, await MaintainerLocksAsync(kit));
        Assert.Equal(AnalyticsTestKit.Sorted(AnalyticsTestKit.Keys("a", 1, 40).Concat(AnalyticsTestKit.Keys("b", 1, 5))), await kit.EventKeysAsync());
        await second.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_maintainer_whose_connection_is_killed_reconnects_and_carries_on()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, Fast, TimeProvider.System);
        using var node = Node(kit);
        await node.StartAsync(CancellationToken.None);
        await WaitForEventsAsync(kit, 0);

        await kit.Postgres.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{MaintainerLease.ApplicationName}' AND datname = current_database()");
        await kit.AddSegmentAsync("a", 1, 7);

        await WaitForEventsAsync(kit, 7);
        Assert.False(node.ExecuteTask!.IsCompleted);
        await node.StopAsync(CancellationToken.None);
        Assert.True(node.ExecuteTask.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_failing_step_neither_stops_the_service_nor_holds_back_publication()
    {
        await using var kit = await AnalyticsTestKit.CreateAsync(postgres, Fast, TimeProvider.System);
        // An input the compactor cannot read fails every compaction. It is listed last, so the
        // views still bind (DuckDB reads the first file's schema then).
        await kit.AddSegmentAsync("a", 1, 10);
        await kit.AddSegmentAsync("a", 11, 10);
        var broken = await kit.AddSegmentAsync("a", 21, 10, kit.Time.GetUtcNow().AddHours(1));
        await File.WriteAllTextAsync(broken.File, "not parquet");
        using var node = Node(kit);

        await node.StartAsync(CancellationToken.None);
        await WaitForAsync(() => Task.FromResult(File.Exists(kit.CatalogPath)));
        await kit.SetStreamAsync("a", 30);
        await WaitForAsync(async () => (await IndependentReader.QueryAsync(kit.CatalogPath, "select count(*) as n from streams"))[0].GetProperty("n").GetString() == "1");

        Assert.Equal(3, await kit.LiveSegmentsAsync());
        Assert.False(node.ExecuteTask!.IsCompleted);
        await node.StopAsync(CancellationToken.None);
    }

    private static void Fast(AnalyticsOptions options)
    {
        options.PublishInterval = TimeSpan.FromMilliseconds(100);
        options.CompactionThreshold = 2;
    }

    private static AnalyticsMaintenanceService Node(AnalyticsTestKit kit) => new(
        kit.Postgres.Database,
        kit.Options,
        kit.Compactor(),
        kit.Publisher(),
        kit.Collector(),
        kit.Time,
        NullLogger<AnalyticsMaintenanceService>.Instance);

    private static Task<long> MaintainerLocksAsync(AnalyticsTestKit kit) => kit.Postgres.CountAsync($"""
        SELECT count(*) FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((classid::bigint << 32) | objid::bigint) = {PostgresSchema.AnalyticsMaintenanceLock}
        """);

    private static Task WaitForEventsAsync(AnalyticsTestKit kit, long count) =>
        WaitForAsync(async () => File.Exists(kit.CatalogPath)
            && (await IndependentReader.QueryAsync(kit.CatalogPath, "select count(*) as n from events"))[0].GetProperty("n").GetString() == count.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the maintainer did not get there in time");
            await Task.Delay(100);
        }
    }
}
