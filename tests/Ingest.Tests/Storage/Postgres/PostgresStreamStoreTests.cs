using System.Text.Json.Nodes;
using Ingest.Contracts;
using Ingest.Tests.Infrastructure;
using static Ingest.Tests.Storage.DuckDb.TestStreams;
using static Ingest.Tests.Storage.Postgres.PostgresStreams;

namespace Ingest.Tests.Storage.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PostgresStreamStoreTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Loads_the_row_the_sink_wrote()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        var store = kit.Store();
        var open = Flush(NewStream(transport: StreamTransport.Http), Batch(Start, Events(1, 4), rejected: 2));
        var closed = Flush(open.State with { Duplicates = 3 }, closedAt: Start.AddMinutes(2), Batch(Start.AddSeconds(5), Events(7, 1)));
        var bare = Flush(NewStream(remoteAddress: null), Batch(Start, Events(1, 1)));
        await using (var sink = kit.Sink())
        {
            await sink.WriteAsync(open, CancellationToken.None);
            await sink.WriteAsync(closed, CancellationToken.None);
            await sink.WriteAsync(bare, CancellationToken.None);
        }

        var loaded = await store.LoadAsync(open.State.Key, CancellationToken.None);
        var loadedBare = await store.LoadAsync(bare.State.Key, CancellationToken.None);

        Assert.NotNull(loaded);
        // jsonb keeps the headers' meaning, not their spelling.
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(closed.State.HeadersJson), JsonNode.Parse(loaded.HeadersJson)));
        Assert.Equal(closed.State with { HeadersJson = loaded.HeadersJson }, loaded);
        Assert.Equal(7, loaded.Position);
        Assert.Equal(StorageSinks.Postgres, loaded.Sinks);
        Assert.NotNull(loadedBare);
        Assert.Null(loadedBare.RemoteAddress);
        Assert.Null(loadedBare.ClosedAt);
    }

    [Fact]
    public async Task A_stream_it_never_saw_loads_as_null()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);

        Assert.Null(await kit.Store().LoadAsync(StreamKey.New(), CancellationToken.None));
    }
}
