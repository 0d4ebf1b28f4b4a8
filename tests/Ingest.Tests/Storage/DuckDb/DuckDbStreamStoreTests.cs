using Ingest.Contracts;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

public sealed class DuckDbStreamStoreTests
{
    [Fact]
    public async Task LoadAsync_returns_the_state_the_sink_wrote()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        using var store = kit.Store();
        var open = Flush(Opened(), Batch(Start, Events(1, 4), rejected: 2));
        var closed = Flush(Opened(remoteAddress: null, StreamTransport.Http), closedAt: Start.AddHours(1), Batch(Start, Events(1, 1)));
        await sink.WriteAsync(open, CancellationToken.None);
        await sink.WriteAsync(closed, CancellationToken.None);

        Assert.Equal(open.State, await store.LoadAsync(open.State.Key, CancellationToken.None));
        Assert.Equal(closed.State, await store.LoadAsync(closed.State.Key, CancellationToken.None));
    }

    [Fact]
    public async Task LoadAsync_of_a_stream_never_written_is_null()
    {
        await using var kit = StorageTestKit.Create();
        using var store = kit.Store();

        Assert.Null(await store.LoadAsync(StreamKey.New(), CancellationToken.None));
    }

    [Fact]
    public async Task Loads_from_many_threads_while_the_sink_writes_all_succeed()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        using var store = kit.Store();
        var known = Flush(Opened(), Batch(Start, Events(1, 2)));
        await sink.WriteAsync(known, CancellationToken.None);

        var writing = Task.WhenAll(Enumerable.Range(0, 200).Select(_ =>
            sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, 10))), CancellationToken.None).AsTask()));
        var loads = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
            await store.LoadAsync(known.State.Key, CancellationToken.None))));
        await writing;

        Assert.All(loads, state => Assert.Equal(known.State, state));
    }
}
