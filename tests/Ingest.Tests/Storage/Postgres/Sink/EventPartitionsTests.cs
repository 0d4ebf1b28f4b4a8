using Ingest.Silo.Storage.Postgres;
using Ingest.Silo.Storage.Postgres.Sink;
using Ingest.Tests.Infrastructure;
using Npgsql;

namespace Ingest.Tests.Storage.Postgres.Sink;

[Collection(PostgresCollection.Name)]
public sealed class EventPartitionsTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Nodes_creating_the_same_day_at_once_all_succeed()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        var day = new DateOnly(2027, 2, 28);

        await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            await using var connection = new NpgsqlConnection(kit.ConnectionString);
            await connection.OpenAsync();
            await EventPartitions.CreateAsync(connection, day, CancellationToken.None);
        }));

        Assert.Equal(["events_20270228"], await kit.PartitionsAsync());
        // The partition holds exactly its UTC day.
        await kit.ExecuteAsync("INSERT INTO events VALUES ('s', 1, '2027-02-28 00:00:00+00', '{}'), ('s', 2, '2027-02-28 23:59:59.999999+00', '{}')");
        await Assert.ThrowsAsync<PostgresException>(() => kit.ExecuteAsync("INSERT INTO events VALUES ('s', 3, '2027-03-01 00:00:00+00', '{}')"));
    }

    [Fact]
    public void Partition_names_carry_their_day()
    {
        var day = new DateOnly(2026, 1, 9);

        Assert.Equal("events_20260109", PostgresSchema.PartitionName(day));
        Assert.True(PostgresSchema.TryParsePartition("events_20260109", out var parsed));
        Assert.Equal(day, parsed);
        Assert.False(PostgresSchema.TryParsePartition("events_default", out _));
        Assert.False(PostgresSchema.TryParsePartition("streams", out _));
        Assert.Equal(new DateOnly(2026, 1, 9), PostgresSchema.DayOf(new DateTimeOffset(2026, 1, 10, 1, 0, 0, TimeSpan.FromHours(2))));
    }
}
