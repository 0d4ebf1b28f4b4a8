using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Grains;
using Ingest.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Silo.Grains;

public sealed class StreamSiloTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly RecordingSink _sink = new();
    private readonly MemoryStreamStore _store = new();
    private readonly StreamSilo _silo;

    public StreamSiloTests()
    {
        var flush = new FlushOptions { MaxEvents = 1000, MaxDelay = TimeSpan.FromMilliseconds(50) };
        var notifier = new StreamNotifier();
        _silo = new StreamSilo(new GrainServices([new SinkPort(StorageSinks.DuckDb, _sink, _store)], notifier, flush, _time, NullLogger.Instance), notifier);
    }

    [Fact]
    public async Task Calls_to_one_key_run_one_at_a_time_in_order()
    {
        var key = new StreamKey("a");
        var grain = _silo.GetGrain(key);
        await grain.OpenAsync(Opened());
        _sink.Gate = new TaskCompletionSource();

        var flushes = Enumerable.Range(1, 5).Select(async i =>
        {
            await grain.AppendAsync(Batch(i));
            return await grain.FlushAsync();
        }).ToList();
        await Task.Delay(50);
        _sink.Gate.SetResult();
        var progress = await Task.WhenAll(flushes);

        Assert.Equal(1, _sink.MaxConcurrentWrites);
        Assert.Equal(5, progress.Max(p => p.Stored));
        var stored = _sink.Flushes.SelectMany(f => f.Batches).Select(b => System.Text.Encoding.UTF8.GetString(b[0]));
        Assert.Equal(["1", "2", "3", "4", "5"], stored);
        Assert.Equal(1, _silo.ActivationCount);
    }

    [Fact]
    public async Task Different_keys_flush_concurrently_so_the_sink_can_coalesce_them()
    {
        _sink.Gate = new TaskCompletionSource();
        var opens = Enumerable.Range(0, 4).Select(i => _silo.GetGrain(new StreamKey($"k{i}")).OpenAsync(Opened()).AsTask()).ToList();
        await Task.Delay(50);
        _sink.Gate.SetResult();
        await Task.WhenAll(opens);

        Assert.Equal(4, _sink.MaxConcurrentWrites);
    }

    [Fact]
    public async Task The_flush_timer_fires_as_a_turn_and_subscribers_hear_the_new_count()
    {
        var key = new StreamKey("timed");
        var heard = new TaskCompletionSource<StreamProgress>();
        using var subscription = _silo.Observe(key, new Observer(heard));
        var grain = _silo.GetGrain(key);
        await grain.OpenAsync(Opened());
        await grain.AppendAsync(Batch(1));

        _time.Advance(TimeSpan.FromMilliseconds(50));

        Assert.Equal(1, (await heard.Task.WaitAsync(TimeSpan.FromSeconds(5))).Stored);
    }

    [Fact]
    public async Task An_idle_grain_flushes_and_deactivates_and_the_next_call_reloads_its_state()
    {
        var key = new StreamKey("idle");
        var grain = _silo.GetGrain(key);
        await grain.OpenAsync(Opened());
        await grain.AppendAsync(Batch(1));

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await _silo.DeactivateIdleAsync(TimeSpan.FromMinutes(1), CancellationToken.None));
        _time.Advance(TimeSpan.FromMinutes(1));
        // The timer's flush is a flight, and lands in a turn of its own once the sink has it: the
        // idle collector passes over a grain in a turn. Asking the grain waits for that turn, and
        // counts as a use, so the grain must then be left idle again.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await grain.GetProgressAsync())?.Stored != 1 && DateTime.UtcNow < deadline)
            await Task.Delay(5);
        _store.States[key] = _sink.Flushes[^1].State;
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await _silo.DeactivateIdleAsync(TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Equal(0, _silo.ActivationCount);

        await grain.AppendAsync(Batch(2));
        var progress = await grain.FlushAsync();

        Assert.Equal(2, progress.Stored);
        Assert.Equal(2, _store.Loads);
        Assert.Equal(2, _sink.Flushes[^1].Batches[0].FirstSeq);
    }

    [Fact]
    public async Task A_closed_stream_leaves_no_activation_behind_and_can_be_reopened()
    {
        var key = new StreamKey("closed");
        var grain = _silo.GetGrain(key);
        await grain.OpenAsync(Opened());
        await grain.AppendAsync(Batch(1));
        await grain.CloseAsync(_time.GetUtcNow());
        Assert.Equal(0, _silo.ActivationCount);

        _store.States[key] = _sink.Flushes[^1].State;
        await grain.AppendAsync(Batch(2));
        Assert.Equal(2, (await grain.FlushAsync()).Stored);
    }

    [Fact]
    public async Task Deactivating_everything_flushes_every_grain()
    {
        for (var i = 0; i < 3; i++)
        {
            var grain = _silo.GetGrain(new StreamKey($"s{i}"));
            await grain.OpenAsync(Opened());
            await grain.AppendAsync(Batch(1));
        }

        await _silo.DeactivateAllAsync(CancellationToken.None);

        Assert.Equal(3, _sink.Flushes.Count(f => f.EventCount == 1));
        Assert.Equal(0, _silo.ActivationCount);
    }

    private StreamOpened Opened() => new(StreamTransport.Http, null, "{}", _time.GetUtcNow());

    private EventBatch Batch(int n)
    {
        var payload = System.Text.Encoding.UTF8.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new EventBatch(payload, [payload.Length], 1, 0, _time.GetUtcNow());
    }

    private sealed class Observer(TaskCompletionSource<StreamProgress> heard) : IStreamObserver
    {
        public void OnStored(StreamKey key, StreamProgress progress)
        {
            if (progress.Stored > 0)
                heard.TrySetResult(progress);
        }

        public void OnFailed(StreamKey key, string reason) => heard.TrySetException(new IOException(reason));
    }
}
