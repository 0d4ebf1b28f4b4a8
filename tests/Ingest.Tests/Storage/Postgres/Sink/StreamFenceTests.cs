using Ingest.Grains;
using Ingest.Tests.Infrastructure;
using static Ingest.Tests.Storage.DuckDb.TestStreams;
using static Ingest.Tests.Storage.Postgres.PostgresStreams;

namespace Ingest.Tests.Storage.Postgres.Sink;

/// <summary>Two nodes' sinks writing the same stream: the second to arrive is refused, and nothing is stored twice.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StreamFenceTests(PostgresFixture postgres)
{
    [Fact]
    public async Task A_write_that_assumes_less_than_the_stream_holds_is_refused_and_stores_nothing()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        await using var first = kit.Sink();
        await using var second = kit.Sink();
        var stream = NewStream();
        var flush = Flush(stream, Batch(Start, Events(1, 5))) with { SinkPosition = 0 };
        await first.WriteAsync(flush, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<StreamConflictException>(() => second.WriteAsync(flush, CancellationToken.None).AsTask());

        Assert.Equal(5, refused.Stored);
        Assert.Equal(0, refused.Expected);
        Assert.Equal(5, await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{stream.Key}'"));
        // The same node's next write, assuming what the stream holds, goes through.
        var next = Flush(flush.State, Batch(Start, Events(6, 3))) with { SinkPosition = 5 };
        await second.WriteAsync(next, CancellationToken.None);
        Assert.Equal(8, await kit.CountAsync($"SELECT count(*) FROM events WHERE stream_id = '{stream.Key}'"));
    }

    [Fact]
    public async Task Nodes_writing_the_same_new_streams_at_once_store_each_event_once()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        var sinks = Enumerable.Range(0, 4).Select(_ => kit.Sink()).ToArray();
        var streams = Enumerable.Range(0, 20).Select(_ => NewStream()).ToArray();

        // Every sink writes every stream's first 10 events, as if each held the same client's resent batch.
        var writes = sinks.SelectMany(sink => streams.Select(stream =>
            sink.WriteAsync(Flush(stream, Batch(Start, Events(1, 10))) with { SinkPosition = 0 }, CancellationToken.None).AsTask()));
        var outcomes = await Task.WhenAll(writes.Select(async write =>
        {
            try
            {
                await write;
                return true;
            }
            catch (StreamConflictException)
            {
                return false;
            }
        }));

        Assert.Equal(streams.Length, outcomes.Count(stored => stored));
        Assert.Equal(0, await kit.CountAsync("SELECT count(*) FROM (SELECT stream_id, seq FROM events GROUP BY 1, 2 HAVING count(*) > 1) d"));
        Assert.Equal(200, await kit.CountAsync("SELECT count(*) FROM events"));
        foreach (var sink in sinks)
            await sink.DisposeAsync();
    }
}
