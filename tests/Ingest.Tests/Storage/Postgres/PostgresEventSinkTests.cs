using System.Text.Json.Nodes;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Tests.Infrastructure;
using Npgsql;
using static Ingest.Tests.Storage.DuckDb.TestStreams;
using static Ingest.Tests.Storage.Postgres.PostgresStreams;

namespace Ingest.Tests.Storage.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PostgresEventSinkTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Flushes_of_many_streams_coalesce_and_read_back_as_written()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        await using var sink = kit.Sink();
        var flushes = Enumerable.Range(0, 40)
            .Select(i => Flush(NewStream(), Batch(Start, Events(i * 1000, 50, i % 2 == 0 ? "info" : "warn")), Batch(Start.AddSeconds(1), Events(i * 1000 + 50, 10))))
            .ToList();

        await Task.WhenAll(flushes.Select(f => sink.WriteAsync(f, CancellationToken.None).AsTask()));

        var counters = sink.Counters;
        Assert.Equal(2400, counters.EventsWritten);
        Assert.Equal(40, counters.StreamsWritten);
        Assert.InRange(counters.Commits, 1, 10);
        Assert.Equal(0, counters.FailedCommits);
        var expected = flushes
            .SelectMany(f => f.Batches.SelectMany(b => Enumerable.Range(0, b.Count).Select(i => (Key: f.State.Key.Value, Seq: b.SeqOf(i), Json: System.Text.Encoding.UTF8.GetString(b[i])))))
            .ToDictionary(e => (e.Key, e.Seq), e => e.Json);
        var rows = await kit.RowsAsync("SELECT stream_id, seq, payload::text FROM events");
        Assert.Equal(expected.Count, rows.Count);
        foreach (var row in rows)
        {
            var written = expected[((string)row[0]!, (long)row[1]!)];
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(written), JsonNode.Parse((string)row[2]!)), $"{written} came back as {row[2]}");
        }
        Assert.Equal(1000, await kit.CountAsync("SELECT count(*) FROM events WHERE payload->>'level' = 'warn'"));
        Assert.Equal(40, await kit.CountAsync($"SELECT count(*) FROM streams WHERE events = 60 AND rejected = 0 AND bytes > 0 AND sinks = 'postgres'"));
    }

    [Fact]
    public async Task Sequence_numbers_skip_the_rejected_events_between_stored_ones()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        await using var sink = kit.Sink();
        // Six entries: events at offsets 0, 2 and 5, rejected ones at 1, 3 and 4.
        var flush = Flush(NewStream(), Batch(Start, Events(1, 3), rejected: 3) with { Offsets = [0, 2, 5] });

        await sink.WriteAsync(flush, CancellationToken.None);

        var seqs = await kit.RowsAsync($"SELECT seq, (payload->>'n')::int FROM events WHERE stream_id = '{flush.State.Key}' ORDER BY seq");
        Assert.Equal([1L, 3, 6], seqs.Select(r => (long)r[0]!));
        Assert.Equal([1, 2, 3], seqs.Select(r => (int)r[1]!));
        Assert.Equal(3, await kit.CountAsync($"SELECT rejected FROM streams WHERE id = '{flush.State.Key}'"));
    }

    [Fact]
    public async Task A_stream_flushed_again_continues_and_keeps_its_opening_metadata()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        await using var sink = kit.Sink();
        var first = Flush(NewStream(), Batch(Start, Events(1, 3)));
        var second = Flush(first.State with { RemoteAddress = "10.9.9.9" }, closedAt: Start.AddMinutes(5), Batch(Start.AddSeconds(1), Events(4, 2), rejected: 1));
        var closing = new StreamFlush(second.State with { Duplicates = 4 }, []);

        await sink.WriteAsync(first, CancellationToken.None);
        await sink.WriteAsync(second, CancellationToken.None);
        await sink.WriteAsync(closing, CancellationToken.None);

        var seqs = await kit.RowsAsync($"SELECT seq FROM events WHERE stream_id = '{first.State.Key}' ORDER BY seq");
        Assert.Equal([1L, 2, 3, 4, 5], seqs.Select(r => (long)r[0]!));
        var row = (await kit.RowsAsync("SELECT events, bytes, rejected, duplicates, closed_at, remote_addr FROM streams"))[0];
        Assert.Equal(5L, row[0]);
        Assert.Equal(second.State.Bytes, row[1]);
        Assert.Equal(1L, row[2]);
        Assert.Equal(4L, row[3]);
        Assert.Equal(Start.AddMinutes(5).UtcDateTime, row[4]);
        Assert.Equal("10.0.0.7", row[5]);
    }

    [Fact]
    public async Task A_flush_postgresql_refuses_fails_alone_and_the_others_in_its_commit_succeed()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        await using var sink = kit.Sink();
        // Valid JSON, but jsonb has no place for U+0000.
        var bad = Flush(NewStream(), Batch(Start, ["""{"msg":"nul \u0000 here"}"""]));
        var badHeaders = Flush(NewStream() with { HeadersJson = "{not json" }, Batch(Start, Events(1, 5)));
        var good = Enumerable.Range(0, 10).Select(_ => Flush(NewStream(), Batch(Start, Events(1, 7)))).ToList();

        var writes = good.Select(f => sink.WriteAsync(f, CancellationToken.None).AsTask()).ToList();
        var refused = sink.WriteAsync(bad, CancellationToken.None).AsTask();
        var refusedHeaders = sink.WriteAsync(badHeaders, CancellationToken.None).AsTask();
        await Task.WhenAll(writes);

        Assert.Equal("22P05", (await Assert.ThrowsAsync<PostgresException>(() => refused)).SqlState);
        Assert.Equal("22P02", (await Assert.ThrowsAsync<PostgresException>(() => refusedHeaders)).SqlState);
        Assert.Equal(70, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(10, await kit.CountAsync("SELECT count(*) FROM streams"));
        Assert.Equal(2, sink.Counters.FailedCommits);
        await sink.WriteAsync(Flush(NewStream(), Batch(Start, Events(1, 1))), CancellationToken.None);
    }

    [Fact]
    public async Task Flushes_it_cannot_store_are_refused_before_queueing()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        await using var sink = kit.Sink();
        var flush = Flush(NewStream(), Batch(Start, Events(1, 3)));
        var pastPosition = flush with { State = flush.State with { Events = 2 } };
        var invalidUtf8 = Flush(NewStream(), new EventBatch([(byte)'"', 0xFF, (byte)'"'], [3], 1, 0, Start));

        await Assert.ThrowsAsync<ArgumentException>(() => sink.WriteAsync(pastPosition, CancellationToken.None).AsTask());
        Assert.Contains("UTF-8", (await Assert.ThrowsAsync<ArgumentException>(() => sink.WriteAsync(invalidUtf8, CancellationToken.None).AsTask())).Message);
        Assert.Equal(0, sink.Counters.QueuedBytes);
    }

    [Fact]
    public async Task A_commit_whose_answer_was_lost_is_not_written_twice()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        await using var sink = kit.Sink();
        var lost = 0;
        // The COMMIT lands, then the connection "drops" before its answer is read.
        sink.Writer.AfterCommit = () => Interlocked.Exchange(ref lost, 1) == 0
            ? throw new NpgsqlException("Exception while reading from stream", new IOException("Connection reset by peer"))
            : ValueTask.CompletedTask;
        var flushes = Enumerable.Range(0, 5).Select(_ => Flush(NewStream(), Batch(Start, Events(1, 20)))).ToList();
        var closeOnly = new StreamFlush(flushes[0].State with { ClosedAt = Start.AddMinutes(1) }, []);

        await Task.WhenAll(flushes.Select(f => sink.WriteAsync(f, CancellationToken.None).AsTask()));
        await sink.WriteAsync(closeOnly, CancellationToken.None);

        Assert.Equal(100, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(100, await kit.CountAsync("SELECT count(DISTINCT (stream_id, seq)) FROM events"));
        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM streams WHERE closed_at IS NOT NULL"));
        var counters = sink.Counters;
        Assert.True(counters.Retries >= 1, $"retries: {counters.Retries}");
        Assert.True(counters.AlreadyCommitted >= 1, $"already committed: {counters.AlreadyCommitted}");
        Assert.False(counters.Unreachable);
    }

    [Fact]
    public async Task Dispose_writes_what_is_queued_and_later_writes_are_refused()
    {
        await using var kit = await PostgresTestKit.CreateAsync(postgres);
        var sink = kit.Sink();
        var writes = new List<Task>();
        for (var i = 0; i < 50; i++)
            writes.Add(sink.WriteAsync(Flush(NewStream(), Batch(Start, Events(1, 20))), CancellationToken.None).AsTask());

        await sink.DisposeAsync();

        Assert.All(writes, w => Assert.True(w.IsCompletedSuccessfully));
        Assert.Equal(1000, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(50, await kit.CountAsync("SELECT count(*) FROM streams"));
        await Assert.ThrowsAsync<ObjectDisposedException>(
            () => sink.WriteAsync(Flush(NewStream(), Batch(Start, Events(1, 1))), CancellationToken.None).AsTask());
    }
}
