using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Fakes;
using static Ingest.Tests.Fakes.TestBatches;

namespace Ingest.Tests.Grains;

/// <summary>A stream written to two sinks: acknowledged only when both hold it, each sent only what it lacks.</summary>
public sealed class StreamGrainSinksTests
{
    private static readonly StreamKey Key = new("fan-out");
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingSink _duck = new();
    private readonly RecordingSink _postgres = new();
    private readonly MemoryStreamStore _duckRows = new();
    private readonly MemoryStreamStore _postgresRows = new();
    private readonly RecordingNotifier _notifier = new();
    private readonly FakeGrainContext _context;

    public StreamGrainSinksTests() => _context = new FakeGrainContext(_time);

    [Fact]
    public async Task Both_sinks_get_every_event_and_the_stream_row()
    {
        var grain = await OpenedAsync();
        await grain.AppendAsync(Numbered(1, 3, _time.GetUtcNow()));
        await grain.FlushAsync();

        Assert.Equal(Events(_duck.Flushes), Events(_postgres.Flushes));
        Assert.Equal(3, Events(_duck.Flushes).Count);
        Assert.Equal(StorageSinks.DuckDb | StorageSinks.Postgres, _postgres.Flushes[^1].State.Sinks);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task When_one_sink_fails_nothing_is_acknowledged_and_the_retry_sends_each_sink_only_what_it_lacks(bool atOnce)
    {
        var grain = await OpenedAsync();
        _postgres.Fail = true;
        _postgres.FailAtOnce = atOnce;
        await grain.AppendAsync(Numbered(1, 3, _time.GetUtcNow()));

        await Assert.ThrowsAsync<IOException>(async () => await grain.FlushAsync());
        Assert.Equal(0, grain.Progress.Position);
        Assert.Equal(3, Events(_duck.Flushes).Count);

        _postgres.Fail = false;
        await grain.AppendAsync(Numbered(4, 2, _time.GetUtcNow()));
        var progress = await grain.FlushAsync();

        Assert.Equal(5, progress.Position);
        var expected = Enumerable.Range(1, 5).Select(i => ((long)i, i.ToString())).ToList();
        Assert.Equal(expected, Events(_duck.Flushes));
        Assert.Equal(expected, Events(_postgres.Flushes));
    }

    [Fact]
    public async Task A_stream_routed_to_one_sink_never_touches_the_other()
    {
        var grain = NewGrain();
        await grain.OnActivateAsync(CancellationToken.None);
        await grain.OpenAsync(Opened(StorageSinks.DuckDb));
        _postgres.Fail = true;
        await grain.AppendAsync(Numbered(1, 2, _time.GetUtcNow()));

        var progress = await grain.FlushAsync();

        Assert.Equal(2, progress.Position);
        Assert.Empty(_postgres.Flushes);
    }

    [Fact]
    public async Task Asking_for_a_sink_the_deployment_lacks_is_refused()
    {
        var grain = new StreamGrain(Key, [new SinkPort(StorageSinks.DuckDb, _duck, _duckRows)], _context, _notifier, new FlushOptions(), _time);
        await grain.OnActivateAsync(CancellationToken.None);

        await Assert.ThrowsAsync<ArgumentException>(async () => await grain.OpenAsync(Opened(StorageSinks.Postgres)));
    }

    [Fact]
    public async Task On_activation_the_stream_stands_where_the_sink_furthest_behind_stands_and_that_sink_is_brought_level()
    {
        var row = StreamState.Opened(Key, Opened(), StorageSinks.DuckDb | StorageSinks.Postgres);
        _duckRows.States[Key] = row with { Events = 5, Bytes = 5 };
        _postgresRows.States[Key] = row with { Events = 3, Bytes = 3 };
        var grain = NewGrain();
        await grain.OnActivateAsync(CancellationToken.None);

        var opened = await grain.OpenAsync(Opened());
        Assert.Equal(3, opened.Position);

        // The client resends 4..6: DuckDB already has 4 and 5, PostgreSQL gets all three.
        await grain.AppendAsync(Numbered(4, 3, _time.GetUtcNow()));
        var progress = await grain.FlushAsync();

        Assert.Equal(6, progress.Position);
        Assert.Equal([(6L, "6")], Events(_duck.Flushes));
        Assert.Equal([(4L, "4"), (5L, "5"), (6L, "6")], Events(_postgres.Flushes));
    }

    [Fact]
    public async Task A_sink_ahead_of_the_stream_is_never_moved_back_nor_sent_its_own_events_again()
    {
        var row = StreamState.Opened(Key, Opened(), StorageSinks.DuckDb | StorageSinks.Postgres);
        _duckRows.States[Key] = row with { Events = 10, Bytes = 10 };
        _postgresRows.States[Key] = row with { Events = 3, Bytes = 3 };
        var grain = NewGrain();
        await grain.OnActivateAsync(CancellationToken.None);
        await grain.OpenAsync(Opened());

        // The client resends from 4 in small flushes, the first few ending below what DuckDB holds.
        foreach (var (from, count) in new[] { (4, 2), (6, 3), (9, 4) })
        {
            await grain.AppendAsync(Numbered(from, count, _time.GetUtcNow()));
            await grain.FlushAsync();
        }

        Assert.Equal(12, grain.Progress.Position);
        Assert.Equal([(11L, "11"), (12L, "12")], Events(_duck.Flushes));
        Assert.Equal(Enumerable.Range(4, 9).Select(i => ((long)i, i.ToString())), Events(_postgres.Flushes));
        Assert.All(_duck.Flushes, flush => Assert.True(flush.State.Position >= 10, $"DuckDB's row moved back to {flush.State.Position}"));
    }

    [Fact]
    public async Task A_sink_that_cannot_load_holds_up_only_the_streams_that_go_to_it()
    {
        var failing = new FailingStore();
        var grain = new StreamGrain(Key, [new SinkPort(StorageSinks.DuckDb, _duck, _duckRows), new SinkPort(StorageSinks.Postgres, _postgres, failing)],
            _context, _notifier, new FlushOptions(), _time);
        await grain.OnActivateAsync(CancellationToken.None);

        Assert.Equal(0, (await grain.OpenAsync(Opened(StorageSinks.DuckDb))).Position);
        var other = new StreamGrain(new StreamKey("other"), [new SinkPort(StorageSinks.DuckDb, _duck, _duckRows), new SinkPort(StorageSinks.Postgres, _postgres, failing)],
            _context, _notifier, new FlushOptions(), _time);
        await other.OnActivateAsync(CancellationToken.None);
        await Assert.ThrowsAsync<IOException>(async () => await other.OpenAsync(Opened(StorageSinks.Postgres)));
    }

    [Fact]
    public async Task Storage_that_is_merely_behind_is_not_reported_as_a_failure()
    {
        var behind = new BehindSink();
        var slow = new StreamGrain(new StreamKey("slow"), [new SinkPort(StorageSinks.DuckDb, behind, _duckRows)], _context, _notifier, new FlushOptions(), _time);
        await slow.OnActivateAsync(CancellationToken.None);
        behind.Behind = false;
        await slow.OpenAsync(Opened(StorageSinks.DuckDb));
        behind.Behind = true;
        await slow.AppendAsync(Numbered(1, 1, _time.GetUtcNow()));

        await Assert.ThrowsAsync<StorageBackpressureException>(async () => await slow.FlushAsync());

        Assert.Empty(_notifier.Failures);
        Assert.Equal(0, slow.Progress.Position);
    }

    private async Task<StreamGrain> OpenedAsync()
    {
        var grain = NewGrain();
        await grain.OnActivateAsync(CancellationToken.None);
        await grain.OpenAsync(Opened());
        return grain;
    }

    private StreamGrain NewGrain() =>
        new(Key, [new SinkPort(StorageSinks.DuckDb, _duck, _duckRows), new SinkPort(StorageSinks.Postgres, _postgres, _postgresRows)],
            _context, _notifier, new FlushOptions { MaxEvents = 1000 }, _time);

    private StreamOpened Opened(StorageSinks sinks = StorageSinks.None) => new(StreamTransport.Http, null, "{}", _time.GetUtcNow(), sinks);

    private sealed class FailingStore : IStreamStore
    {
        public ValueTask<StreamState?> LoadAsync(StreamKey key, CancellationToken cancellationToken) =>
            ValueTask.FromException<StreamState?>(new IOException("connection refused"));
    }

    private sealed class BehindSink : IEventSink
    {
        public bool Behind { get; set; }

        public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken) =>
            Behind ? ValueTask.FromException(new StorageBackpressureException("queue full", TimeSpan.FromSeconds(1))) : ValueTask.CompletedTask;
    }
}
