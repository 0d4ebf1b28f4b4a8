using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

public sealed class DuckDbEventSinkTests
{
    [Fact]
    public async Task Writes_of_many_streams_are_readable_once_they_complete()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        var flushes = Enumerable.Range(0, 20)
            .Select(i => Flush(Opened(), Batch(Start, Events(1, 50, i % 2 == 0 ? "info" : "warn"))))
            .ToList();

        await Task.WhenAll(flushes.Select(f => sink.WriteAsync(f, CancellationToken.None).AsTask()));

        Assert.Equal(1000, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(500, await kit.CountAsync("SELECT count(*) FROM events WHERE payload->>'level' = 'warn'"));
        Assert.Equal(20, await kit.CountAsync("SELECT count(*) FROM streams WHERE events = 50"));
        var counters = sink.Counters;
        Assert.Equal(1000, counters.EventsWritten);
        Assert.Equal(20, counters.StreamsWritten);
        Assert.InRange(counters.Commits, 1, 20);
        Assert.Equal(0, counters.FailedCommits);
    }

    [Fact]
    public async Task A_stream_flushed_again_continues_its_sequence_and_updates_its_row()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        var first = Flush(Opened(), Batch(Start, Events(1, 3)));
        var second = Flush(first.State, closedAt: Start.AddMinutes(5), Batch(Start.AddSeconds(1), Events(4, 2), rejected: 1));

        await sink.WriteAsync(first, CancellationToken.None);
        await sink.WriteAsync(second, CancellationToken.None);

        var seqs = await kit.QueryRowsAsync($"SELECT seq FROM events WHERE stream_id = '{first.State.Key}' ORDER BY seq");
        Assert.Equal([1L, 2, 3, 4, 5], seqs.Select(r => r.GetProperty("seq").GetInt64()));
        var row = (await kit.QueryRowsAsync("SELECT events, bytes, rejected, closed_at IS NOT NULL AS closed FROM streams"))[0];
        Assert.Equal(5, row.GetProperty("events").GetInt64());
        Assert.Equal(second.State.Bytes, row.GetProperty("bytes").GetInt64());
        Assert.Equal(1, row.GetProperty("rejected").GetInt64());
        Assert.True(row.GetProperty("closed").GetBoolean());
    }

    [Fact]
    public async Task A_failed_write_faults_its_caller_and_later_writes_still_succeed()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        var bad = Flush(Opened() with { HeadersJson = "{not json" }, Batch(Start, Events(1, 5)));
        var good = Flush(Opened(), Batch(Start, Events(1, 7)));

        await Assert.ThrowsAsync<DuckDbException>(() => sink.WriteAsync(bad, CancellationToken.None).AsTask());
        await sink.WriteAsync(good, CancellationToken.None);

        Assert.Equal(7, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(1, await kit.CountAsync($"SELECT count(*) FROM streams WHERE id = '{good.State.Key}'"));
        Assert.Equal(1, sink.Counters.FailedCommits);
    }

    [Fact]
    public async Task Dispose_writes_what_is_queued_and_reopening_keeps_everything()
    {
        await using var kit = StorageTestKit.Create();
        var writes = new List<Task>();
        await using (var sink = kit.Sink())
        {
            for (var i = 0; i < 50; i++)
                writes.Add(sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, 20))), CancellationToken.None).AsTask());
        }
        Assert.All(writes, w => Assert.True(w.IsCompletedSuccessfully));

        kit.Reopen();

        Assert.Equal(1000, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(50, await kit.CountAsync("SELECT count(*) FROM streams"));
    }

    [Fact]
    public async Task Many_writers_on_a_small_queue_all_complete_and_stay_within_the_bound()
    {
        const long bound = 1024 * 1024;
        await using var kit = StorageTestKit.Create(o => o.MaxQueuedBytes = bound);
        await using var sink = kit.Sink();
        var payload = new string('x', 180);
        long largestQueue = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                largestQueue = Math.Max(largestQueue, sink.Counters.QueuedBytes);
                await Task.Yield();
            }
        });

        // 40 streams, each flushing 25 times as a grain would: one flush at a time per stream.
        var writers = Enumerable.Range(0, 40).Select(_ => Task.Run(async () =>
        {
            var state = Opened();
            for (var i = 0; i < 25; i++)
            {
                var flush = Flush(state, Batch(Start, Enumerable.Range(0, 100).Select(n => $$"""{"n":{{n}},"pad":"{{payload}}"}""")));
                await sink.WriteAsync(flush, CancellationToken.None);
                state = flush.State;
            }
        }));
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));
        await sampling.CancelAsync();
        await sampler;

        Assert.Equal(100_000, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(40, await kit.CountAsync("SELECT count(*) FROM streams WHERE events = 2500"));
        Assert.InRange(largestQueue, 0, bound + (100 * 250));
    }

    [Fact]
    public async Task A_flush_holding_events_past_its_state_is_refused()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        var flush = Flush(Opened(), Batch(Start, Events(1, 3)));
        var wrong = flush with { State = flush.State with { Events = 2 } };

        await Assert.ThrowsAsync<ArgumentException>(() => sink.WriteAsync(wrong, CancellationToken.None).AsTask());
    }

    public static TheoryData<string, byte[], int[]> InvalidUtf8 => new()
    {
        { "a byte that is never UTF-8", [(byte)'"', 0xFF, (byte)'"'], [3] },
        // "é" is 0xC3 0xA9: the bytes together are valid UTF-8, each event alone is not.
        { "events that split a character", [0xC3, 0xA9], [1, 2] },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public async Task A_flush_with_invalid_utf8_is_refused_alone(string what, byte[] payloads, int[] ends)
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        var bad = Flush(Opened(), new Ingest.Contracts.EventBatch(payloads, ends, ends.Length, 0, Start));
        var good = Flush(Opened(), Batch(Start, Events(1, 2)));

        var refused = Assert.ThrowsAsync<ArgumentException>(() => sink.WriteAsync(bad, CancellationToken.None).AsTask());
        await sink.WriteAsync(good, CancellationToken.None);

        Assert.True((await refused).Message.Contains("UTF-8", StringComparison.Ordinal), what);
        Assert.Equal(2, await kit.CountAsync("SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task Events_and_stream_keys_beyond_ascii_read_back_as_written()
    {
        await using var kit = StorageTestKit.Create();
        await using var sink = kit.Sink();
        string[] texts = ["""{"msg":"grüße"}""", """{"msg":"日本語","n":1}""", """{"emoji":"😀🚀"}""", """["€",""]""", "\"ä\""];
        var opened = Opened() with { Key = new Ingest.Contracts.StreamKey("grüße-ストリーム") };

        await sink.WriteAsync(Flush(opened, Batch(Start, texts)), CancellationToken.None);

        var rows = await kit.QueryRowsAsync("SELECT stream_id, payload::VARCHAR AS payload FROM events ORDER BY seq");
        Assert.Equal(texts, rows.Select(row => row.GetProperty("payload").GetString()));
        Assert.All(rows, row => Assert.Equal("grüße-ストリーム", row.GetProperty("stream_id").GetString()));
        Assert.Equal(5, await kit.CountAsync("SELECT events FROM streams WHERE id = 'grüße-ストリーム'"));
    }

    [Fact]
    public async Task Writes_after_dispose_are_refused()
    {
        await using var kit = StorageTestKit.Create();
        var sink = kit.Sink();
        await sink.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(
            () => sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, 1))), CancellationToken.None).AsTask());
    }
}
