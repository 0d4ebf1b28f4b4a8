using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Fakes;
using static Ingest.Tests.Fakes.TestBatches;

namespace Ingest.Tests.Grains;

public sealed class StreamGrainTests
{
    private static readonly StreamKey Key = new("stream-1");
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingSink _sink = new();
    private readonly MemoryStreamStore _store = new();
    private readonly RecordingNotifier _notifier = new();
    private readonly FakeGrainContext _timers;

    public StreamGrainTests() => _timers = new FakeGrainContext(_time);

    [Fact]
    public async Task Opening_persists_the_stream_row_before_any_event()
    {
        var grain = await ActivateAsync();

        await grain.OpenAsync(Opened());

        var flush = Assert.Single(_sink.Flushes);
        Assert.Equal(0, flush.EventCount);
        Assert.Equal("""{"user-agent":"test"}""", flush.State.HeadersJson);
        Assert.Equal(StreamTransport.WebSocket, flush.State.Transport);
    }

    [Fact]
    public async Task Events_below_the_thresholds_wait_for_the_delay_then_flush_together()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = TimeSpan.FromMilliseconds(50) });

        await grain.AppendAsync(Batch("{\"n\":1}", "{\"n\":2}"));
        await grain.AppendAsync(Batch("{\"n\":3}"));
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Equal(0, await _timers.RunDueAsync());
        Assert.Empty(EventFlushes());

        _time.Advance(TimeSpan.FromMilliseconds(1));
        // The tick, and the flight it started landing.
        Assert.Equal(2, await _timers.RunDueAsync());

        var flush = Assert.Single(EventFlushes());
        Assert.Equal(1, flush.Batches[0].FirstSeq);
        Assert.Equal(3, flush.State.Events);
        Assert.Equal(["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], Payloads(flush));
        Assert.Equal(3, _notifier.Published[^1].Stored);
    }

    [Fact]
    public async Task Streams_flush_together_on_the_clock_s_ticks_whenever_their_events_came()
    {
        var options = new FlushOptions { MaxEvents = 100, MaxDelay = TimeSpan.FromMilliseconds(20) };
        var first = await OpenedGrainAsync(options);
        var second = new StreamGrain(new StreamKey("stream-2"), [new SinkPort(StorageSinks.DuckDb, _sink, _store)], _timers, _notifier, options, _time);
        await second.OnActivateAsync(CancellationToken.None);
        await second.OpenAsync(Opened());

        // The clock starts on a tick: events at 7 and 15 ms both wait for the tick at 20 ms.
        _time.Advance(TimeSpan.FromMilliseconds(7));
        await first.AppendAsync(Batch("{\"n\":1}"));
        _time.Advance(TimeSpan.FromMilliseconds(8));
        await second.AppendAsync(Batch("{\"n\":2}"));
        _time.Advance(TimeSpan.FromMilliseconds(4));
        Assert.Equal(0, await _timers.RunDueAsync());
        Assert.Empty(EventFlushes());

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _timers.RunDueAsync();

        Assert.Equal(["stream-1", "stream-2"], EventFlushes().Select(flush => flush.State.Key.Value).Order());
        Assert.All(EventFlushes(), flush => Assert.False(flush.Awaited));
    }

    [Fact]
    public async Task A_flush_a_caller_waits_for_tells_the_sink_so()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100 });

        await grain.AppendAsync(Batch("1"));
        await grain.FlushAsync();

        Assert.True(Assert.Single(EventFlushes()).Awaited);
    }

    [Fact]
    public async Task Only_the_first_write_to_a_sink_says_its_row_may_be_missing()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 1 });

        await grain.AppendAsync(Batch("1"));
        await _timers.RunDueAsync();
        await grain.AppendAsync(Batch("2"));
        await _timers.RunDueAsync();

        Assert.Equal([false, true, true], _sink.Flushes.Select(flush => flush.SinkHasRow));
    }

    [Fact]
    public async Task Reaching_the_event_threshold_flushes_at_once_and_cancels_the_timer()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 3, MaxDelay = TimeSpan.FromSeconds(1) });

        await grain.AppendAsync(Batch("1", "2"));
        Assert.Empty(EventFlushes());
        await grain.AppendAsync(Batch("3"));
        await _timers.RunDueAsync();

        Assert.Equal(3, Assert.Single(EventFlushes()).State.Events);
        _time.Advance(TimeSpan.FromSeconds(2));
        await _timers.RunDueAsync();
        Assert.Single(EventFlushes());
    }

    [Fact]
    public async Task Reaching_the_byte_threshold_flushes_at_once()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 1000, MaxBytes = 10 });

        await grain.AppendAsync(Batch("\"0123456789\""));
        await _timers.RunDueAsync();

        Assert.Single(EventFlushes());
        Assert.Equal(12, grain.Progress.Bytes);
    }

    [Fact]
    public async Task Sequence_numbers_continue_across_flushes()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 2 });

        await grain.AppendAsync(Batch("1", "2"));
        await grain.AppendAsync(Batch("3", "4"));
        await _timers.RunDueAsync();

        Assert.Equal([1L, 3L], EventFlushes().Select(f => f.Batches[0].FirstSeq));
        Assert.Equal(4, grain.Progress.Stored);
    }

    [Fact]
    public async Task Close_flushes_what_is_left_with_the_close_time_in_the_same_write()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100 });
        await grain.AppendAsync(Batch("1", "2"));

        var closedAt = _time.GetUtcNow().AddSeconds(5);
        var progress = await grain.CloseAsync(closedAt);

        var flush = Assert.Single(EventFlushes());
        Assert.Equal(closedAt, flush.State.ClosedAt);
        Assert.Equal(2, flush.State.Events);
        Assert.Equal(2, progress.Stored);
        Assert.True(_timers.DeactivationRequested);
    }

    [Fact]
    public async Task A_named_stream_stays_active_when_it_closes_and_one_the_node_named_does_not()
    {
        var named = await ActivateAsync();
        await named.OpenAsync(Opened() with { Named = true });
        await named.CloseAsync(_time.GetUtcNow());
        Assert.False(_timers.DeactivationRequested);

        var unnamed = await OpenedGrainAsync(new FlushOptions());
        await unnamed.CloseAsync(_time.GetUtcNow());
        Assert.True(_timers.DeactivationRequested);
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task Reopening_a_live_stream_loads_it_again_only_from_storage_other_nodes_write(bool exclusive, int loads)
    {
        var grain = new StreamGrain(Key, [new SinkPort(StorageSinks.DuckDb, _sink, _store, exclusive)], _timers, _notifier, new FlushOptions(), _time);
        await grain.OnActivateAsync(CancellationToken.None);
        await grain.OpenAsync(Opened() with { Named = true });
        await grain.AppendAsync(Batch("1", "2"));
        await grain.CloseAsync(_time.GetUtcNow());
        var before = _store.Loads;

        var reopened = await grain.OpenAsync(Opened() with { Named = true });

        Assert.Equal(loads, _store.Loads - before);
        Assert.Equal(2, reopened.Position);
        Assert.Null(_sink.Flushes[^1].State.ClosedAt);
    }

    [Fact]
    public async Task Rejected_events_are_counted_in_the_state_but_not_stored()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100 });

        await grain.AppendAsync(Batch("1") with { Rejected = 2 });
        var progress = await grain.CloseAsync(_time.GetUtcNow());

        Assert.Equal(new StreamProgress(1, 1, 2, 0), progress);
        Assert.Equal(2, _sink.Flushes[^1].State.Rejected);
    }

    [Fact]
    public async Task A_failed_write_keeps_the_events_and_the_retry_stores_them_under_the_same_numbers()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100 });
        await grain.AppendAsync(Batch("1", "2"));

        _sink.Fail = true;
        await Assert.ThrowsAsync<IOException>(async () => await grain.FlushAsync());
        Assert.Equal(0, grain.Progress.Stored);
        Assert.DoesNotContain(_notifier.Published, p => p.Stored > 0);
        Assert.Equal(["sink is down"], _notifier.Failures);

        _sink.Fail = false;
        await grain.AppendAsync(Batch("3"));
        await grain.FlushAsync();

        var flush = Assert.Single(EventFlushes());
        Assert.Equal(1, flush.Batches[0].FirstSeq);
        Assert.Equal(["1", "2", "3"], Payloads(flush));
    }

    [Fact]
    public async Task Events_that_arrive_while_a_flush_commits_are_taken_and_start_their_own_delay()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = TimeSpan.FromMilliseconds(20) });
        await grain.AppendAsync(Batch("1", "2"));
        _sink.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        await _timers.RunDueAsync(waitForTasks: false);

        // The write is held open: the grain still takes events, and counts only what is durable.
        var appended = grain.AppendAsync(Batch("3")).AsTask();
        Assert.True(appended.IsCompletedSuccessfully);
        Assert.Equal(0, grain.Progress.Stored);
        Assert.Empty(EventFlushes());

        _time.Advance(TimeSpan.FromMilliseconds(20));
        _sink.Gate.SetResult();
        _sink.Gate = null;
        await _timers.RunDueAsync();

        // The second flush came due during the first and went as soon as that one landed.
        Assert.Equal([(1L, 2L), (3L, 3L)], EventFlushes().Select(flush => (flush.Batches[0].FirstSeq, flush.State.Events)));
        Assert.Equal(1, _sink.MaxConcurrentWrites);
        Assert.Equal([2L, 3L], _notifier.Published.Select(p => p.Stored).Where(stored => stored > 0));
        Assert.Equal(3, grain.Progress.Stored);
    }

    [Fact]
    public async Task A_threshold_reached_while_a_flush_commits_waits_for_it()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 2, MaxDelay = TimeSpan.FromSeconds(1) });
        _sink.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await grain.AppendAsync(Batch("1", "2"));
        await grain.AppendAsync(Batch("3"));
        var full = grain.AppendAsync(Batch("4")).AsTask();
        await Task.Delay(50);
        Assert.False(full.IsCompleted);

        _sink.Gate.SetResult();
        _sink.Gate = null;
        await full;
        await _timers.RunDueAsync();

        Assert.Equal([2L, 4L], EventFlushes().Select(flush => flush.State.Events));
        Assert.Equal(4, grain.Progress.Stored);
    }

    [Fact]
    public async Task A_failed_flight_puts_its_events_back_before_later_ones()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = TimeSpan.FromMilliseconds(20) });
        await grain.AppendAsync(Batch("1", "2"));
        _sink.Fail = true;
        _sink.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        await _timers.RunDueAsync(waitForTasks: false);
        await grain.AppendAsync(Batch("3"));
        _sink.Gate.SetResult();
        _sink.Gate = null;
        await _timers.RunDueAsync();

        Assert.Equal(["sink is down"], _notifier.Failures);
        Assert.Equal(0, grain.Progress.Stored);

        _sink.Fail = false;
        _time.Advance(TimeSpan.FromSeconds(5));
        await _timers.RunDueAsync();

        var flush = Assert.Single(EventFlushes());
        Assert.Equal(1, flush.Batches[0].FirstSeq);
        Assert.Equal(["1", "2", "3"], Payloads(flush));
        Assert.Equal(3, grain.Progress.Stored);
    }

    [Fact]
    public async Task Close_during_a_flight_waits_for_it_and_writes_the_rest_with_the_close()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100, MaxDelay = TimeSpan.FromMilliseconds(20) });
        await grain.AppendAsync(Batch("1"));
        _sink.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _time.Advance(TimeSpan.FromMilliseconds(20));
        await _timers.RunDueAsync(waitForTasks: false);
        await grain.AppendAsync(Batch("2"));

        var closing = grain.CloseAsync(_time.GetUtcNow()).AsTask();
        await Task.Delay(50);
        Assert.False(closing.IsCompleted);
        _sink.Gate.SetResult();
        _sink.Gate = null;
        var progress = await closing;
        await _timers.RunDueAsync();

        Assert.Equal(2, progress.Stored);
        Assert.Equal([(1L, (DateTimeOffset?)null), (2L, _time.GetUtcNow())], EventFlushes().Select(flush => (flush.State.Events, flush.State.ClosedAt)));
        Assert.Equal(1, _sink.MaxConcurrentWrites);
    }

    [Fact]
    public async Task Activation_loads_the_stored_state_and_continues_its_numbering()
    {
        _store.States[Key] = StreamState.Opened(Key, Opened(), StorageSinks.DuckDb) with { Events = 10, Bytes = 100 };
        var grain = await ActivateAsync(new FlushOptions { MaxEvents = 1 });

        await grain.OpenAsync(Opened() with { HeadersJson = "{}" });
        await grain.AppendAsync(Batch("11"));
        await _timers.RunDueAsync();

        var flush = Assert.Single(EventFlushes());
        Assert.Equal(11, flush.Batches[0].FirstSeq);
        Assert.Equal("""{"user-agent":"test"}""", flush.State.HeadersJson);
        Assert.Equal(new StreamProgress(11, 102, 0, 0), grain.Progress);
    }

    [Fact]
    public async Task Deactivation_flushes_buffered_events()
    {
        var grain = await OpenedGrainAsync(new FlushOptions { MaxEvents = 100 });
        await grain.AppendAsync(Batch("1"));

        await grain.OnDeactivateAsync(CancellationToken.None);

        Assert.Single(EventFlushes());
    }

    [Fact]
    public async Task Appending_to_a_stream_that_was_never_opened_is_refused()
    {
        var grain = await ActivateAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await grain.AppendAsync(Batch("1")));
    }

    private async Task<StreamGrain> ActivateAsync(FlushOptions? options = null)
    {
        var grain = new StreamGrain(Key, [new SinkPort(StorageSinks.DuckDb, _sink, _store)], _timers, _notifier, options ?? new FlushOptions(), _time);
        await grain.OnActivateAsync(CancellationToken.None);
        return grain;
    }

    private async Task<StreamGrain> OpenedGrainAsync(FlushOptions options)
    {
        var grain = await ActivateAsync(options);
        await grain.OpenAsync(Opened());
        return grain;
    }

    private StreamOpened Opened() => new(StreamTransport.WebSocket, "127.0.0.1:5000", """{"user-agent":"test"}""", _time.GetUtcNow());

    private List<StreamFlush> EventFlushes() => _sink.Flushes.Where(f => f.EventCount > 0).ToList();

    private EventBatch Batch(params string[] events) => Text(_time.GetUtcNow(), events);
}
