using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Fakes;
using static Ingest.Tests.Fakes.TestBatches;

namespace Ingest.Tests.Grains;

/// <summary>Batches that name their first sequence number: duplicates dropped, gaps refused.</summary>
public sealed class StreamGrainResumeTests
{
    private static readonly StreamKey Key = new("resumed");
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingSink _sink = new();
    private readonly MemoryStreamStore _store = new();
    private readonly RecordingNotifier _notifier = new();
    private readonly FakeGrainContext _context;

    public StreamGrainResumeTests() => _context = new FakeGrainContext(_time);

    [Fact]
    public async Task A_batch_resent_whole_is_dropped_and_counted_as_duplicates()
    {
        var grain = await OpenedAsync();
        await grain.AppendAsync(Numbered(1, 5, _time.GetUtcNow()));
        await grain.FlushAsync();

        await grain.AppendAsync(Numbered(1, 5, _time.GetUtcNow()));
        var progress = await grain.FlushAsync();

        Assert.Equal(new StreamProgress(5, 5, 0, 5), progress);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => ((long)i, i.ToString())), Events(_sink.Flushes));
    }

    [Fact]
    public async Task A_batch_overlapping_the_stream_keeps_only_its_new_events()
    {
        var grain = await OpenedAsync();
        await grain.AppendAsync(Numbered(1, 4, _time.GetUtcNow()));

        // Events 3..8, while 1..4 are still buffered: 3 and 4 are duplicates even before they are durable.
        await grain.AppendAsync(Numbered(3, 6, _time.GetUtcNow()));
        var progress = await grain.FlushAsync();

        Assert.Equal(8, progress.Position);
        Assert.Equal(2, progress.Duplicates);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => ((long)i, i.ToString())), Events(_sink.Flushes));
    }

    [Fact]
    public async Task A_batch_that_would_leave_a_gap_is_refused_and_changes_nothing()
    {
        var grain = await OpenedAsync();
        await grain.AppendAsync(Numbered(1, 3, _time.GetUtcNow()));

        var gap = await Assert.ThrowsAsync<StreamSequenceException>(async () => await grain.AppendAsync(Numbered(5, 1, _time.GetUtcNow())));

        Assert.Equal(3, gap.Position);
        Assert.Equal(5, gap.FirstSeq);
        Assert.Equal(3, (await grain.FlushAsync()).Position);
    }

    [Fact]
    public async Task Batches_without_a_sequence_number_continue_the_stream()
    {
        var grain = await OpenedAsync();
        await grain.AppendAsync(Numbered(1, 2, _time.GetUtcNow(), setSeq: false));
        await grain.AppendAsync(Numbered(3, 2, _time.GetUtcNow(), setSeq: false));
        await grain.FlushAsync();

        Assert.Equal(Enumerable.Range(1, 4).Select(i => ((long)i, i.ToString())), Events(_sink.Flushes));
    }

    [Fact]
    public async Task Rejected_events_take_sequence_numbers_so_a_client_can_count_what_it_sent()
    {
        var grain = await OpenedAsync();
        // Entries 1..4, where 2 and 3 were refused as bad input.
        var batch = new EventBatch("14"u8.ToArray(), [1, 2], 2, 2, _time.GetUtcNow()) { FirstSeq = 1, Offsets = [0, 3] };
        await grain.AppendAsync(batch);
        await grain.FlushAsync();

        // The client resends 3..5: only 5 is new; 3 was settled when it was refused.
        await grain.AppendAsync(Numbered(3, 3, _time.GetUtcNow()));
        var progress = await grain.FlushAsync();

        Assert.Equal(new StreamProgress(3, 3, 2, 2), progress);
        Assert.Equal([(1L, "1"), (4L, "4"), (5L, "5")], Events(_sink.Flushes));
    }

    [Fact]
    public async Task A_fresh_activation_drops_what_storage_already_holds()
    {
        // What a node that was killed left behind: the stream's row, durable with its events.
        _store.States[Key] = StreamState.Opened(Key, Opened(), StorageSinks.DuckDb) with { Events = 10, Bytes = 20 };
        var grain = NewGrain();
        await grain.OnActivateAsync(CancellationToken.None);

        var opened = await grain.OpenAsync(Opened());
        await grain.AppendAsync(Numbered(8, 5, _time.GetUtcNow()));
        var progress = await grain.FlushAsync();

        Assert.Equal(10, opened.Position);
        Assert.Equal(12, progress.Position);
        Assert.Equal(3, progress.Duplicates);
        Assert.Equal([(11L, "11"), (12L, "12")], Events(_sink.Flushes));
    }

    [Fact]
    public async Task Reopening_a_closed_stream_clears_its_close_time()
    {
        var grain = await OpenedAsync();
        await grain.CloseAsync(_time.GetUtcNow());

        await grain.OpenAsync(Opened());

        Assert.Null(_sink.Flushes[^1].State.ClosedAt);
    }

    private async Task<StreamGrain> OpenedAsync()
    {
        var grain = NewGrain();
        await grain.OnActivateAsync(CancellationToken.None);
        await grain.OpenAsync(Opened());
        return grain;
    }

    private StreamGrain NewGrain() =>
        new(Key, [new SinkPort(StorageSinks.DuckDb, _sink, _store)], _context, _notifier, new FlushOptions { MaxEvents = 1000 }, _time);

    private StreamOpened Opened() => new(StreamTransport.WebSocket, null, "{}", _time.GetUtcNow());
}
