using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Fakes;

namespace Ingest.Tests.Grains;

/// <summary>A stream whose sinks are all exclusive may have a second flight in the air.</summary>
public sealed class StreamGrainFlightsTests
{
    private static readonly StreamKey Key = new("stream-1");
    private static readonly FlushOptions Options = new() { MaxEvents = 100, MaxDelay = TimeSpan.FromMilliseconds(20) };
    private readonly ManualTimeProvider _time = new();
    private readonly OrderedSink _sink = new();
    private readonly MemoryStreamStore _store = new();
    private readonly RecordingNotifier _notifier = new();
    private readonly FakeGrainContext _context;

    public StreamGrainFlightsTests() => _context = new FakeGrainContext(_time);

    [Fact]
    public async Task A_second_flight_takes_off_while_the_first_commits_and_goes_on_from_where_it_leaves_the_stream()
    {
        var grain = await OpenedGrainAsync();
        await FlyAsync(grain, "1", "2");
        await FlyAsync(grain, "3");
        // Two flights are in the air: a third waits for the first to land.
        await FlyAsync(grain, "4");
        Assert.Equal(3, _sink.Received.Count);

        var (first, second) = (_sink.Received[1], _sink.Received[2]);
        Assert.False(first.Follows);
        Assert.Equal((0L, 1L, 2L), (first.SinkPosition!.Value, first.Batches[0].FirstSeq, first.State.Position));
        Assert.True(second.Follows);
        Assert.True(second.SinkHasRow);
        Assert.Equal((2L, 3L, 3L), (second.SinkPosition!.Value, second.Batches[0].FirstSeq, second.State.Position));
        Assert.Equal(0, grain.Progress.Stored);

        _sink.SettleNext();
        await RunUntilAsync(() => grain.Progress.Stored == 2 && _sink.Received.Count == 4);
        Assert.Equal(2, grain.Progress.Stored);
        // The first landed, so the events that came due meanwhile took off behind the second.
        var third = _sink.Received[^1];
        Assert.Equal((true, 3L, 4L, 4L), (third.Follows, third.SinkPosition!.Value, third.Batches[0].FirstSeq, third.State.Position));

        _sink.SettleNext();
        _sink.SettleNext();
        await _context.RunDueAsync();

        Assert.Equal(4, grain.Progress.Stored);
        Assert.Equal([2L, 3L, 4L], _notifier.Published.Select(p => p.Stored).Where(stored => stored > 0));
        Assert.Equal(["1", "2", "3", "4"], TestBatches.Events(_sink.Stored).Select(e => e.Payload));
        Assert.Equal([1L, 2L, 3L, 4L], TestBatches.Events(_sink.Stored).Select(e => e.Seq));
    }

    [Fact]
    public async Task When_the_first_of_two_flights_fails_the_second_is_refused_and_both_are_written_again_in_order()
    {
        var grain = await OpenedGrainAsync();
        await FlyAsync(grain, "1", "2");
        await FlyAsync(grain, "3");
        await grain.AppendAsync(Batch("4"));

        _sink.SettleNext(fail: true);
        _sink.SettleNext();
        await RunUntilAsync(() => _notifier.Failures.Count > 0);

        // One failure, the first's: the second was refused because of it, and nothing moved.
        Assert.Equal(["No space left on device"], _notifier.Failures);
        Assert.Equal(0, grain.Progress.Stored);
        Assert.Single(_sink.Stored);

        _sink.SettleAtOnce = true;
        _time.Advance(TimeSpan.FromSeconds(5));
        await _context.RunDueAsync();

        var retry = _sink.Stored[^1];
        Assert.False(retry.Follows);
        Assert.Equal(0, retry.SinkPosition);
        Assert.Equal([(1L, "1"), (2L, "2"), (3L, "3"), (4L, "4")], TestBatches.Events(_sink.Stored));
        Assert.Equal(4, grain.Progress.Stored);
    }

    [Fact]
    public async Task A_stream_that_also_goes_to_a_shared_sink_keeps_one_flight_at_a_time()
    {
        var shared = new OrderedSink();
        var grain = new StreamGrain(
            Key, [new SinkPort(StorageSinks.DuckDb, _sink, _store, Exclusive: true), new SinkPort(StorageSinks.Postgres, shared, new MemoryStreamStore())],
            _context, _notifier, Options);
        await grain.OnActivateAsync(CancellationToken.None);
        _sink.SettleAtOnce = shared.SettleAtOnce = true;
        await grain.OpenAsync(Opened());
        _sink.SettleAtOnce = shared.SettleAtOnce = false;

        await FlyAsync(grain, "1");
        await FlyAsync(grain, "2");

        Assert.Equal(2, shared.Received.Count);
        shared.SettleNext();
        _sink.SettleNext();
        await RunUntilAsync(() => grain.Progress.Stored == 1 && shared.Received.Count == 3);
        Assert.Equal(1, grain.Progress.Stored);
        Assert.False(shared.Received[^1].Follows);
        Assert.Equal(2, shared.Received[^1].Batches[0].FirstSeq);
    }

    private async Task<StreamGrain> OpenedGrainAsync()
    {
        var grain = new StreamGrain(Key, [new SinkPort(StorageSinks.DuckDb, _sink, _store, Exclusive: true)], _context, _notifier, Options);
        await grain.OnActivateAsync(CancellationToken.None);
        _sink.SettleAtOnce = true;
        await grain.OpenAsync(Opened());
        _sink.SettleAtOnce = false;
        return grain;
    }

    /// <summary>
    /// Runs the turns that are due until <paramref name="landed"/> holds: the writes a test settles
    /// complete a moment later, on another thread. Gives up after ten seconds; the asserts after it say what is wrong.
    /// </summary>
    private async Task RunUntilAsync(Func<bool> landed)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await _context.RunDueAsync(waitForTasks: false);
            if (landed() || DateTime.UtcNow > deadline)
                return;
            await Task.Delay(5);
        }
    }

    /// <summary>Appends the events and lets their delay run out, without waiting for any write.</summary>
    private async Task FlyAsync(StreamGrain grain, params string[] events)
    {
        await grain.AppendAsync(Batch(events));
        _time.Advance(Options.MaxDelay);
        await _context.RunDueAsync(waitForTasks: false);
    }

    private StreamOpened Opened() => new(StreamTransport.WebSocket, "127.0.0.1:5000", """{"user-agent":"test"}""", _time.GetUtcNow());

    private EventBatch Batch(params string[] events)
    {
        var payloads = events.SelectMany(Encoding.UTF8.GetBytes).ToArray();
        var ends = new int[events.Length];
        var end = 0;
        for (var i = 0; i < events.Length; i++)
            ends[i] = end += Encoding.UTF8.GetByteCount(events[i]);
        return new EventBatch(payloads, ends, events.Length, 0, _time.GetUtcNow());
    }
}
