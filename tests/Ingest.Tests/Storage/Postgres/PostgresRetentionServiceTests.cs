using Ingest.Silo.Storage.Postgres;
using Ingest.Tests.Fakes;
using Ingest.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using static Ingest.Tests.Storage.DuckDb.TestStreams;
using static Ingest.Tests.Storage.Postgres.PostgresStreams;

namespace Ingest.Tests.Storage.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PostgresRetentionServiceTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Runs_at_start_and_again_each_interval()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres, o =>
        {
            o.Retention = TimeSpan.FromDays(1);
            o.RetentionInterval = TimeSpan.FromHours(1);
        });
        var clock = new ManualTimeProvider();
        var now = clock.GetUtcNow();
        await using (var sink = kit.Sink())
        {
            await sink.WriteAsync(Flush(NewStream(), Batch(now.AddDays(-3), Events(1, 2))), CancellationToken.None);
            await sink.WriteAsync(Flush(NewStream(), Batch(now.AddHours(-1), Events(1, 2))), CancellationToken.None);
        }
        using var service = new PostgresRetentionService(kit.Retention(), clock, NullLogger<PostgresRetentionService>.Instance);

        await service.StartAsync(CancellationToken.None);
        await WaitForPartitionsAsync(kit, 1);
        clock.Advance(TimeSpan.FromDays(2));
        await WaitForPartitionsAsync(kit, 0);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_failing_round_does_not_stop_the_service()
    {
        var kit = await PostgresTestKit.CreateAsync(postgres);
        var retention = kit.Retention();
        await kit.DisposeAsync();
        var clock = new ManualTimeProvider();
        using var service = new PostgresRetentionService(retention, clock, NullLogger<PostgresRetentionService>.Instance);

        await service.StartAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(1));
        await Task.Delay(200);

        Assert.False(service.ExecuteTask!.IsCompleted);
        await service.StopAsync(CancellationToken.None);
        Assert.True(service.ExecuteTask.IsCompletedSuccessfully);
    }

    private static async Task WaitForPartitionsAsync(PostgresTestKit kit, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await kit.PartitionsAsync()).Count != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"expected {count} partitions");
            await Task.Delay(50);
        }
    }
}
