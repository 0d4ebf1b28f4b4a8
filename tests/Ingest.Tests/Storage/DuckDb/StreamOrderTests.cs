using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using Ingest.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>
/// The DuckDB sink keeps a stream's flushes in the order they were written (<see cref="IEventSink.KeepsStreamOrder"/>),
/// so a grain may write the next before the last is durable: nothing jumps the line for room, and
/// a flush that follows a failed one is refused rather than stored past a gap.
/// </summary>
public sealed class StreamOrderTests
{
    [Fact]
    public async Task A_flush_that_follows_a_failed_one_is_refused_until_a_write_starts_where_the_sink_holds_the_stream()
    {
        var writer = new GatedWriter { FailingCall = 1 };
        await using var sink = new DuckDbEventSink(writer, 64L * 1024 * 1024, NullLogger<DuckDbEventSink>.Instance);
        Assert.True(sink.KeepsStreamOrder);
        var opened = Opened();
        var first = Flush(opened, Batch(Start, Events(1, 5))) with { SinkPosition = 0 };
        var second = Flush(first.State, Batch(Start, Events(6, 5))) with { SinkPosition = 5, SinkHasRow = true, Follows = true };
        var other = Flush(Opened(), Batch(Start, Events(1, 3))) with { SinkPosition = 0 };

        var failing = Write(sink, first);
        await writer.Entered.WaitAsync(TimeSpan.FromSeconds(5));
        // Written while the first commits, as a grain's next flight is.
        var following = Write(sink, second);
        var unrelated = Write(sink, other);
        writer.Release();

        await Assert.ThrowsAsync<IOException>(() => failing);
        var refused = await Assert.ThrowsAsync<StreamConflictException>(() => following);
        Assert.Equal((0L, 5L), (refused.Stored, refused.Expected));
        Assert.Contains("an earlier write of it failed", refused.Message, StringComparison.Ordinal);
        await unrelated;
        Assert.DoesNotContain(writer.Written, part => part.Key == opened.Key);

        // The grain writes both flights' events again from where the sink holds the stream.
        var again = new StreamFlush(second.State, [.. first.Batches, .. second.Batches]) { SinkPosition = 0 };
        await Write(sink, again);
        Assert.Equal([(0L, 10L)], writer.Written.Where(part => part.Key == opened.Key).Select(part => (part.From, part.To)));

        // The fence is lifted: the stream's next flush follows on.
        var next = Flush(again.State, Batch(Start, Events(11, 2))) with { SinkPosition = 10, SinkHasRow = true };
        await Write(sink, next);
    }

    [Fact]
    public async Task A_write_from_a_grain_that_learned_of_more_than_the_sink_held_lifts_the_fence()
    {
        var writer = new GatedWriter { FailingCall = 1 };
        await using var sink = new DuckDbEventSink(writer, 64L * 1024 * 1024, NullLogger<DuckDbEventSink>.Instance);
        var opened = Opened();
        var failing = Write(sink, Flush(opened, Batch(Start, Events(1, 5))) with { SinkPosition = 0 });
        await writer.Entered.WaitAsync(TimeSpan.FromSeconds(5));
        writer.Release();
        await Assert.ThrowsAsync<IOException>(() => failing);

        // Not a flight behind the failed write: its grain loaded the stream at 7, which other nodes
        // wrote meanwhile, and that is where it starts.
        var reloaded = opened with { Events = 7 };
        await Write(sink, Flush(reloaded, Batch(Start, Events(8, 2))) with { SinkPosition = 7, SinkHasRow = true });

        Assert.Equal([(0L, 2L)], writer.Written.Where(part => part.Key == opened.Key).Select(part => (part.From, part.To)));
    }

    [Fact]
    public async Task Flushes_waiting_for_room_are_queued_in_the_order_they_came()
    {
        var writer = new GatedWriter();
        // Room for one small flush at a time beside another.
        await using var sink = new DuckDbEventSink(writer, 4096, NullLogger<DuckDbEventSink>.Instance);
        var busy = Write(sink, Small());
        await writer.Entered.WaitAsync(TimeSpan.FromSeconds(5));

        // An empty queue takes anything; then the big flush waits for room, and the small one,
        // which would fit, waits behind it.
        var queued = Small();
        var big = Flush(Opened(), Batch(Start, Events(1, 60))) with { SinkPosition = 0 };
        var small = Small();
        var writes = new[] { Write(sink, queued), Write(sink, big), Write(sink, small) };
        await Task.Delay(100);
        Assert.All(writes, write => Assert.False(write.IsCompleted));

        writer.Release();
        await busy;
        await Task.WhenAll(writes);

        var keys = writer.Written.Select(part => part.Key).Distinct().ToList();
        Assert.Equal([queued.State.Key, big.State.Key, small.State.Key], keys[1..]);
    }

    [Fact]
    public async Task A_flush_cancelled_while_it_waits_for_room_fences_its_stream()
    {
        var writer = new GatedWriter();
        await using var sink = new DuckDbEventSink(writer, 4096, NullLogger<DuckDbEventSink>.Instance);
        var busy = Write(sink, Small());
        await writer.Entered.WaitAsync(TimeSpan.FromSeconds(5));
        var filler = Write(sink, Small());

        var opened = Opened();
        var waiting = Flush(opened, Batch(Start, Events(1, 60))) with { SinkPosition = 0 };
        var following = Flush(waiting.State, Batch(Start, Events(61, 2))) with { SinkPosition = 60, SinkHasRow = true, Follows = true };
        using var cancel = new CancellationTokenSource();
        var cancelled = sink.WriteAsync(waiting, cancel.Token).AsTask();
        var behind = Write(sink, following);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        writer.Release();
        await Task.WhenAll(busy, filler);
        var refused = await Assert.ThrowsAsync<StreamConflictException>(() => behind);
        Assert.Equal((0L, 60L), (refused.Stored, refused.Expected));
        Assert.DoesNotContain(writer.Written, part => part.Key == opened.Key);
    }

    [Fact]
    public async Task A_grain_whose_first_of_two_flights_fails_writes_both_again_once_and_in_order()
    {
        var writer = new GatedWriter { FailingCall = 1 };
        await using var sink = new DuckDbEventSink(writer, 64L * 1024 * 1024, NullLogger<DuckDbEventSink>.Instance);
        var time = new ManualTimeProvider();
        var context = new FakeGrainContext(time);
        var notifier = new RecordingNotifier();
        var key = new StreamKey("two-flights");
        var tick = TimeSpan.FromMilliseconds(20);
        var grain = new StreamGrain(key, [new SinkPort(StorageSinks.DuckDb, sink, new MemoryStreamStore())], context, notifier,
            new FlushOptions { MaxEvents = 100, MaxDelay = tick }, time);
        await grain.OnActivateAsync(CancellationToken.None);
        // The open's row is written at once, before the writer is held: the first commit is the first flight.
        writer.FailingCall = 2;
        writer.HoldCall = 2;
        await grain.OpenAsync(new StreamOpened(StreamTransport.WebSocket, null, "{}", Start));

        await grain.AppendAsync(Batch(Start, Events(1, 2)));
        time.Advance(tick);
        await context.RunDueAsync(waitForTasks: false);
        await writer.Entered.WaitAsync(TimeSpan.FromSeconds(5));
        await grain.AppendAsync(Batch(Start, Events(3, 1)));
        time.Advance(tick);
        await context.RunDueAsync(waitForTasks: false);
        writer.Release();
        await context.RunDueAsync();
        Assert.Equal(0, grain.Progress.Stored);
        Assert.Equal(["No space left on device"], notifier.Failures);

        // The retry after the back-off sends all three from where the sink holds the stream.
        time.Advance(TimeSpan.FromSeconds(5));
        await context.RunDueAsync();

        Assert.Equal(3, grain.Progress.Stored);
        Assert.Equal([(0L, 3L)], writer.Written.Where(part => part.Key == key && part.To > 0).Select(part => (part.From, part.To)));
    }

    private static StreamFlush Small() => Flush(Opened(), Batch(Start, Events(1, 1))) with { SinkPosition = 0 };

    private static Task Write(DuckDbEventSink sink, StreamFlush flush) => sink.WriteAsync(flush, CancellationToken.None).AsTask();

    /// <summary>
    /// Stores nothing and notes what it was given. Its first call waits until <see cref="Release"/>,
    /// so a test can queue flushes behind a commit; call <see cref="FailingCall"/> fails, as a full disk would fail it.
    /// </summary>
    private sealed class GatedWriter : IFlushGroupWriter
    {
        private readonly SemaphoreSlim _gate = new(0);
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _lock = new();
        private readonly List<(StreamKey Key, long From, long To)> _written = [];
        private int _calls;

        public int FailingCall { get; set; }

        /// <summary>The call that waits for <see cref="Release"/>; the first unless set.</summary>
        public int HoldCall { get; set; } = 1;

        public Task Entered => _entered.Task;

        public IReadOnlyList<(StreamKey Key, long From, long To)> Written
        {
            get
            {
                lock (_lock)
                    return [.. _written];
            }
        }

        public void Release() => _gate.Release();

        public (long Events, int Streams) Write(List<FlushPart> parts)
        {
            if (++_calls == HoldCall)
            {
                _entered.SetResult();
                _gate.Wait();
            }
            if (_calls == FailingCall)
                throw new IOException("No space left on device");
            lock (_lock)
            {
                foreach (var part in parts)
                    _written.Add((part.Pending.Flush.State.Key, part.From, part.To));
            }
            return (parts.Sum(part => part.To - part.From), parts.Count);
        }

        public void Dispose() => _gate.Dispose();
    }
}
