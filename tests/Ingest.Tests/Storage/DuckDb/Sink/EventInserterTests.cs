using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb.Sink;

public sealed class EventInserterTests
{
    [Fact]
    public async Task Events_with_refused_entries_between_them_keep_their_sequence_numbers_across_chunks()
    {
        await using var kit = StorageTestKit.Create();
        // One refused entry after every six events: event i is entry i + i / 6.
        var offsets = Enumerable.Range(0, 3000).Select(i => i + (i / 6)).ToArray();
        var batch = Batch(Start, Events(1, 3000)) with { Offsets = offsets, Rejected = 3000 / 6 };
        var state = Opened();
        var flush = Flush(state, batch);
        var other = Flush(Opened(), Batch(Start.AddSeconds(1), Events(9001, 2)));

        using (var connection = kit.Database.Connect())
        using (var inserter = new EventInserter(connection, DuckDbSchema.EventTables))
        {
            connection.Execute("BEGIN TRANSACTION");
            Assert.Equal(3002, inserter.Insert(WholeFlushes.Of(flush, other), 1));
            connection.Execute("COMMIT");
        }

        var rows = await kit.QueryRowsAsync(
            $"SELECT seq, CAST(payload AS VARCHAR) AS text FROM {DuckDbSchema.EventTables[1]} WHERE stream_id = '{state.Key}' ORDER BY seq");
        Assert.Equal(offsets.Select(o => 1L + o), rows.Select(r => r.GetProperty("seq").GetInt64()));
        Assert.Equal(Events(1, 3000), rows.Select(r => r.GetProperty("text").GetString()));
        Assert.Equal(0, await kit.CountAsync($"SELECT count(*) FROM {DuckDbSchema.EventTables[0]}"));
        Assert.Equal(2, await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{other.State.Key}'"));
    }
}
