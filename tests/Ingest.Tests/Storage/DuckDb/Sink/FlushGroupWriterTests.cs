using Ingest.Contracts;
using Ingest.Silo.Storage;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb.Sink;

public sealed class FlushGroupWriterTests
{
    [Fact]
    public async Task Several_streams_written_in_one_commit_all_read_back()
    {
        await using var kit = StorageTestKit.Create();
        var a = Opened();
        var b = Opened();
        var c = Opened(remoteAddress: null, StreamTransport.Http);
        var a1 = Flush(a, Batch(Start, Events(1, 3, "info")), Batch(Start.AddSeconds(1), Events(4, 2, "warn")));
        var a2 = Flush(a1.State, Batch(Start.AddSeconds(2), Events(6, 1, "error")));
        var b1 = Flush(b, Batch(Start, Events(1, 5000, "debug"))); // more than one data chunk
        var c1 = Flush(c, closedAt: Start.AddMinutes(1), Batch(Start, ["""{"level":"info","only":true}"""]));

        using (var writer = new FlushGroupWriter(kit.Database.Connect()))
        {
            var written = writer.Write(WholeFlushes.Of(a1, b1, a2, c1));
            Assert.Equal((5007L, 3), written);
        }

        Assert.Equal(5007, await kit.CountAsync("SELECT count(*) FROM events"));
        var rows = await kit.QueryRowsAsync($"""
            SELECT seq, CAST(payload AS VARCHAR) AS text, payload->>'level' AS level, epoch_ms(received_at) AS at
            FROM events WHERE stream_id = '{a.Key}' ORDER BY seq
            """);
        Assert.Equal([1L, 2, 3, 4, 5, 6], rows.Select(r => r.GetProperty("seq").GetInt64()));
        Assert.Equal(Events(1, 3).Concat(Events(4, 2, "warn")).Concat(Events(6, 1, "error")), rows.Select(r => r.GetProperty("text").GetString()));
        Assert.Equal(["info", "info", "info", "warn", "warn", "error"], rows.Select(r => r.GetProperty("level").GetString()));
        Assert.Equal(Start.AddSeconds(1).ToUnixTimeMilliseconds(), rows[4].GetProperty("at").GetInt64());

        var rowB = (await kit.QueryRowsAsync($"SELECT count(DISTINCT seq) AS n, min(seq) AS lo, max(seq) AS hi FROM events WHERE stream_id = '{b.Key}'"))[0];
        Assert.Equal((5000L, 1L, 5000L), (rowB.GetProperty("n").GetInt64(), rowB.GetProperty("lo").GetInt64(), rowB.GetProperty("hi").GetInt64()));

        var streams = await kit.QueryRowsAsync("SELECT id, transport, remote_addr, events, bytes, closed_at FROM streams ORDER BY id");
        Assert.Equal(3, streams.Length);
        var rowA = streams.Single(s => s.GetProperty("id").GetString() == a.Key.Value);
        Assert.Equal(6, rowA.GetProperty("events").GetInt64());
        Assert.Equal(a2.State.Bytes, rowA.GetProperty("bytes").GetInt64());
        var rowC = streams.Single(s => s.GetProperty("id").GetString() == c.Key.Value);
        Assert.Equal("http", rowC.GetProperty("transport").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, rowC.GetProperty("remote_addr").ValueKind);
        Assert.Equal("2026-11-21 12:01:00.123456+00", rowC.GetProperty("closed_at").GetString());
    }

    [Fact]
    public async Task A_commit_of_more_streams_than_a_chunk_holds_records_every_streams_counts_and_close()
    {
        await using var kit = StorageTestKit.Create();
        // Every other stream closes; each has one to three events.
        var flushes = Enumerable.Range(0, 3000)
            .Select(i => Flush(Opened(), i % 2 == 0 ? Start.AddMinutes(1) : null, Batch(Start, Events(1, 1 + (i % 3)))))
            .ToList();
        var later = flushes.Take(10).Select(f => Flush(f.State, Batch(Start, Events((int)f.State.Events + 1, 1))) with { SinkHasRow = true }).ToList();

        using (var writer = new FlushGroupWriter(kit.Database.Connect()))
        {
            writer.Write(WholeFlushes.Of([.. flushes]));
            writer.Write(WholeFlushes.Of([.. later]));
        }

        var progress = (await kit.QueryRowsAsync(
            "SELECT count(*) AS n, count(DISTINCT version) AS versions, count(closed_at) AS closed, sum(events) AS events FROM stream_progress"))[0];
        Assert.Equal(3010, progress.GetProperty("n").GetInt64());
        Assert.Equal(2, progress.GetProperty("versions").GetInt64());
        Assert.Equal(1500 + 5, progress.GetProperty("closed").GetInt64());
        Assert.Equal(flushes.Sum(f => f.State.Events) + later.Sum(f => f.State.Events), progress.GetProperty("events").GetInt64());
        var streams = await kit.QueryRowsAsync("SELECT id, events, closed_at IS NOT NULL AS closed FROM streams");
        var expected = flushes.Skip(10).Concat(later).ToDictionary(f => f.State.Key.Value, f => (f.State.Events, f.State.ClosedAt is not null));
        Assert.Equal(expected.Count, streams.Length);
        Assert.All(streams, row => Assert.Equal(
            expected[row.GetProperty("id").GetString()!], (row.GetProperty("events").GetInt64(), row.GetProperty("closed").GetBoolean())));
    }

    [Fact]
    public async Task A_failing_group_writes_nothing_and_the_writer_carries_on()
    {
        await using var kit = StorageTestKit.Create();
        var good = Flush(Opened(), Batch(Start, Events(1, 10)));
        var bad = Flush(Opened() with { HeadersJson = "not json" }, Batch(Start, Events(1, 10)));
        using var writer = new FlushGroupWriter(kit.Database.Connect());

        Assert.Throws<DuckDbException>(() => writer.Write(WholeFlushes.Of(good, bad)));
        Assert.Equal(0, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(0, await kit.CountAsync("SELECT count(*) FROM streams"));

        writer.Write(WholeFlushes.Of(good));
        Assert.Equal(10, await kit.CountAsync("SELECT count(*) FROM events"));
        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM streams"));
    }
}
