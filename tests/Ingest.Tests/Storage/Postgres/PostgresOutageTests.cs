using Ingest.Cli.Cluster;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Infrastructure;
using static Ingest.Tests.Storage.DuckDb.TestStreams;
using static Ingest.Tests.Storage.Postgres.PostgresStreams;

namespace Ingest.Tests.Storage.Postgres;

/// <summary>PostgreSQL going away under the sink. Each test stops a server of its own.</summary>
public sealed class PostgresOutageTests
{
    [Fact]
    public async Task Writes_wait_through_a_restart_and_everything_is_stored_exactly_once()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var kit = await PostgresTestKit.CreateAsync(server);
        await using var sink = kit.Sink();
        const int streams = 8, flushesPerStream = 40, eventsPerFlush = 50;
        var progress = new int[streams];

        // Each stream flushes one batch at a time and waits for it, as a grain does.
        var writers = Enumerable.Range(0, streams).Select(s => Task.Run(async () =>
        {
            var state = NewStream();
            for (var f = 0; f < flushesPerStream; f++)
            {
                var flush = Flush(state, Batch(Start, Events(f * eventsPerFlush, eventsPerFlush)));
                await sink.WriteAsync(flush, CancellationToken.None);
                state = flush.State;
                Volatile.Write(ref progress[s], f + 1);
            }
        })).ToList();

        await WaitUntilAsync(() => sink.Counters.Commits >= 5);
        await server.StopAsync();
        await WaitUntilAsync(() => sink.Counters.Unreachable);
        var stalled = progress.Sum();
        await Task.Delay(1500);

        Assert.DoesNotContain(writers, w => w.IsFaulted);
        Assert.InRange(progress.Sum(), stalled, stalled + streams);
        await server.StartAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(1));

        const long total = streams * flushesPerStream * eventsPerFlush;
        Assert.Equal(total, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(total, await kit.CountAsync("SELECT count(DISTINCT (stream_id, seq)) FROM events"));
        Assert.Equal(streams, await kit.CountAsync($"SELECT count(*) FROM streams WHERE events = {flushesPerStream * eventsPerFlush}"));
        var counters = sink.Counters;
        Assert.True(counters.Retries > 0);
        Assert.False(counters.Unreachable);
    }

    [Fact]
    public async Task A_full_queue_refuses_writes_at_once_while_postgresql_is_down()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var kit = await PostgresTestKit.CreateAsync(server, o => o.MaxQueuedBytes = 1024 * 1024);
        await using var sink = kit.Sink();
        await sink.WriteAsync(Flush(NewStream(), Batch(Start, Events(1, 1))), CancellationToken.None);
        await server.StopAsync();

        var accepted = new List<Task>();
        StorageBackpressureException? refused = null;
        for (var i = 0; i < 1000 && refused is null; i++)
        {
            try
            {
                accepted.Add(sink.WriteAsync(Flush(NewStream(), Batch(Start, Events(1, 100))), CancellationToken.None).AsTask());
            }
            catch (StorageBackpressureException e)
            {
                refused = e;
            }
        }

        Assert.NotNull(refused);
        Assert.StartsWith("PostgreSQL is behind:", refused.Message);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        // The writer, retrying, may have taken the queue into its group by now: only the bound holds.
        Assert.InRange(sink.Counters.QueuedBytes, 0, 1024 * 1024);
        Assert.DoesNotContain(accepted, w => w.IsCompleted);
        await server.StartAsync();
        await Task.WhenAll(accepted).WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(1 + (100L * accepted.Count), await kit.CountAsync("SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task Dispose_while_postgresql_is_down_gives_up_after_one_more_attempt()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var kit = await PostgresTestKit.CreateAsync(server, o => o.RetryMaxDelay = TimeSpan.FromMinutes(1));
        var sink = kit.Sink();
        await server.StopAsync();
        var first = sink.WriteAsync(Flush(NewStream(), Batch(Start, Events(1, 10))), CancellationToken.None).AsTask();
        await WaitUntilAsync(() => sink.Counters.Unreachable);
        var second = sink.WriteAsync(Flush(NewStream(), Batch(Start, Events(1, 10))), CancellationToken.None).AsTask();

        await sink.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<ObjectDisposedException>(() => first);
        Assert.Contains("unreachable", error.Message);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => second);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(20);
        }
    }
}
