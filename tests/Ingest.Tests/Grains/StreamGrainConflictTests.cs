using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Fakes;
using static Ingest.Tests.Fakes.TestBatches;

namespace Ingest.Tests.Grains;

/// <summary>
/// A stream written by two activations on two nodes, as when a client reconnects through the
/// balancer while the old node still holds buffered events: nothing is stored twice.
/// </summary>
public sealed class StreamGrainConflictTests
{
    private static readonly StreamKey Key = new("moved");
    private readonly ManualTimeProvider _time = new();
    private readonly SharedSink _sink = new();
    private readonly RecordingNotifier _notifier = new();

    [Fact]
    public async Task Events_the_other_node_stored_meanwhile_are_dropped_as_duplicates_and_only_the_rest_is_written()
    {
        var here = await OpenedAsync();
        await here.AppendAsync(Numbered(1, 10, _time.GetUtcNow()));
        // The old node flushes 1..6 of the same events before this one does.
        await _sink.WriteElsewhereAsync(new StreamFlush(Row(6), [Numbered(1, 6, _time.GetUtcNow())]));

        var progress = await here.FlushAsync();

        Assert.Equal(10, progress.Position);
        Assert.Equal(6, progress.Duplicates);
        Assert.Equal(1, _sink.Conflicts);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => ((long)i, i.ToString())), Events(_sink.Written.Flushes));
        Assert.Equal(10, _sink.Store.States[Key].Position);
    }

    [Fact]
    public async Task A_late_flush_of_events_the_stream_already_holds_writes_nothing()
    {
        var old = await OpenedAsync();
        await old.AppendAsync(Numbered(1, 5, _time.GetUtcNow()));
        // Meanwhile the client resumed on another node and got further.
        var elsewhere = await OpenedAsync();
        await elsewhere.AppendAsync(Numbered(1, 8, _time.GetUtcNow()));
        await elsewhere.FlushAsync();

        var progress = await old.FlushAsync();

        Assert.Equal(8, progress.Position);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => ((long)i, i.ToString())), Events(_sink.Written.Flushes));
    }

    [Fact]
    public async Task Reopening_an_activation_that_outlived_its_connection_reports_where_storage_stands()
    {
        var old = await OpenedAsync();
        await old.AppendAsync(Numbered(1, 3, _time.GetUtcNow()));
        await old.FlushAsync();
        var elsewhere = await OpenedAsync();
        await elsewhere.AppendAsync(Numbered(4, 7, _time.GetUtcNow()));
        await elsewhere.FlushAsync();

        var reopened = await old.OpenAsync(Opened());

        Assert.Equal(10, reopened.Position);
    }

    private StreamState Row(long events) => StreamState.Opened(Key, Opened(), StorageSinks.Postgres) with { Events = events };

    private async Task<StreamGrain> OpenedAsync()
    {
        var grain = new StreamGrain(
            Key, [new SinkPort(StorageSinks.Postgres, _sink, _sink.Store)], new FakeGrainContext(_time), _notifier, new FlushOptions(), _time);
        await grain.OnActivateAsync(CancellationToken.None);
        await grain.OpenAsync(Opened());
        return grain;
    }

    private StreamOpened Opened() => new(StreamTransport.WebSocket, null, "{}", _time.GetUtcNow());
}
