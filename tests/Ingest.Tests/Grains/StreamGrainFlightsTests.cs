using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Fakes;
using static Ingest.Tests.Fakes.TestBatches;

namespace Ingest.Tests.Grains;

/// <summary>
/// With a sink that keeps a stream's writes in order (<see cref="IEventSink.KeepsStreamOrder"/>),
/// a stream's next flush takes off while the last is still held by the sink, and they land in order.
/// </summary>
public sealed class StreamGrainFlightsTests
{
    private static readonly StreamKey Key = new("stream-1");
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);
    private readonly ManualTimeProvider _time = new();
    private readonly HeldSink _sink = new();
    private readonly MemoryStreamStore _store = new();
    private readonly RecordingNotifier _notifier = new();
    private readonly FakeGrainContext _context;

    public StreamGrainFlightsTests() => _context = new FakeGrainContext(_time);

    [Fact]
    public async Task A_flush_due_while_one_is_held_takes_off_behind_it_and_they_land_in_order()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = Tick });
        var (first, second) = await TwoFlightsAsync(grain);

        Assert.Equal((1L, 0L, 2L), (first.Flush.Batches[0].FirstSeq, first.Flush.SinkPosition!.Value, first.Flush.State.Events));
        Assert.Equal((3L, 2L, 3L), (second.Flush.Batches[0].FirstSeq, second.Flush.SinkPosition!.Value, second.Flush.State.Events));
        Assert.True(second.Flush.SinkHasRow);
        Assert.Equal((false, true), (first.Flush.Follows, second.Flush.Follows));
        Assert.Equal(["3"], Payloads(second.Flush));

        // The second is durable first: the stream still waits for the first.
        second.Done.SetResult();
        await _context.RunDueAsync(waitForTasks: false);
        Assert.Equal(0, grain.Progress.Stored);

        first.Done.SetResult();
        await _context.RunDueAsync();
        Assert.Equal(3, grain.Progress.Stored);
        Assert.Equal([2L, 3L], _notifier.Published.Select(p => p.Stored).Where(stored => stored > 0));

        // The next flush follows from where both left the sink.
        await grain.AppendAsync(Batch("4"));
        _time.Advance(Tick);
        await _context.RunDueAsync(waitForTasks: false);
        var third = _sink.Writes[^1];
        Assert.Equal((4L, 3L), (third.Flush.Batches[0].FirstSeq, third.Flush.SinkPosition!.Value));
    }

    [Fact]
    public async Task No_more_than_the_flights_allowed_are_out_at_once()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = Tick });
        var (first, second) = await TwoFlightsAsync(grain);

        await grain.AppendAsync(Batch("4"));
        _time.Advance(Tick);
        await _context.RunDueAsync(waitForTasks: false);
        Assert.Equal(2, _sink.Writes.Count(write => !write.Flush.Awaited));

        // The third goes as soon as the first lands.
        first.Done.SetResult();
        await _context.RunDueAsync(waitForTasks: false);
        var third = _sink.Writes[^1];
        Assert.Equal((4L, 3L), (third.Flush.Batches[0].FirstSeq, third.Flush.SinkPosition!.Value));

        second.Done.SetResult();
        third.Done.SetResult();
        await _context.RunDueAsync();
        Assert.Equal(4, grain.Progress.Stored);
    }

    [Fact]
    public async Task When_the_first_of_two_flights_fails_both_are_written_again_from_where_the_sink_holds_the_stream()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = Tick });
        var (first, second) = await TwoFlightsAsync(grain);
        await grain.AppendAsync(Batch("4"));

        // The sink refuses what followed the failed write.
        first.Done.SetException(new IOException("sink is down"));
        second.Done.SetException(new StreamConflictException(Key, 0, 2));
        await _context.RunDueAsync();
        Assert.Equal(0, grain.Progress.Stored);
        Assert.Equal(["sink is down"], _notifier.Failures);

        // The retry, after the back-off, waits for nothing and writes everything in one go.
        _sink.CompleteAll = true;
        _time.Advance(TimeSpan.FromSeconds(5));
        await _context.RunDueAsync();

        var retry = _sink.Writes[^1].Flush;
        Assert.Equal((0L, 1L), (retry.SinkPosition!.Value, retry.Batches[0].FirstSeq));
        Assert.Equal(["1", "2", "3", "4"], Payloads(retry));
        Assert.Equal(4, grain.Progress.Stored);
    }

    [Fact]
    public async Task With_one_flight_allowed_a_flush_due_waits_for_the_one_out()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = Tick, MaxFlights = 1 });
        await grain.AppendAsync(Batch("1"));
        _time.Advance(Tick);
        await _context.RunDueAsync(waitForTasks: false);
        await grain.AppendAsync(Batch("2"));
        _time.Advance(Tick);
        await _context.RunDueAsync(waitForTasks: false);
        Assert.Single(_sink.Writes, write => !write.Flush.Awaited);

        _sink.Writes[^1].Done.SetResult();
        await _context.RunDueAsync(waitForTasks: false);
        var next = _sink.Writes[^1];
        Assert.Equal((2L, 1L), (next.Flush.Batches[0].FirstSeq, next.Flush.SinkPosition!.Value));
    }

    /// <summary>Two flights out: events 1–2, then 3, each taken off on a tick and held by the sink.</summary>
    private async Task<(HeldSink.Write First, HeldSink.Write Second)> TwoFlightsAsync(StreamGrain grain)
    {
        await grain.AppendAsync(Batch("1", "2"));
        _time.Advance(Tick);
        await _context.RunDueAsync(waitForTasks: false);
        await grain.AppendAsync(Batch("3"));
        _time.Advance(Tick);
        await _context.RunDueAsync(waitForTasks: false);
        var flights = _sink.Writes.Where(write => !write.Flush.Awaited).ToList();
        Assert.Equal(2, flights.Count);
        return (flights[0], flights[1]);
    }

    private async Task<StreamGrain> OpenedGrainAsync(FlushOptions options)
    {
        var grain = new StreamGrain(Key, [new SinkPort(StorageSinks.DuckDb, _sink, _store)], _context, _notifier, options, _time);
        await grain.OnActivateAsync(CancellationToken.None);
        await grain.OpenAsync(new StreamOpened(StreamTransport.WebSocket, "127.0.0.1:5000", "{}", _time.GetUtcNow()));
        return grain;
    }

    private EventBatch Batch(params string[] events) => Text(_time.GetUtcNow(), events);

    /// <summary>
    /// Says it keeps a stream's writes in order, and holds each write until the test ends it; a
    /// write a caller waits for (an open, a retry) ends at once, as do all once <see cref="CompleteAll"/>.
    /// </summary>
    private sealed class HeldSink : IEventSink
    {
        private readonly List<Write> _writes = [];

        public bool KeepsStreamOrder => true;

        public bool CompleteAll { get; set; }

        public IReadOnlyList<Write> Writes => _writes;

        public ValueTask WriteAsync(StreamFlush flush, CancellationToken cancellationToken)
        {
            // Continuations run inline: once the test ends a write, the grain's flight has ended with it.
            var write = new Write(flush, new TaskCompletionSource());
            _writes.Add(write);
            if (flush.Awaited || CompleteAll)
                write.Done.SetResult();
            return new ValueTask(write.Done.Task);
        }

        public sealed record Write(StreamFlush Flush, TaskCompletionSource Done);
    }
}
