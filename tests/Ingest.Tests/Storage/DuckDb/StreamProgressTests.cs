using System.Text.Json;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Sink;
using Microsoft.Extensions.Logging.Abstractions;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

/// <summary>
/// Commits append stream counts to <c>stream_progress</c>; compaction folds them into
/// <c>stream_rows</c>; the view <c>streams</c> shows the newest either way.
/// </summary>
public sealed class StreamProgressTests
{
    [Fact]
    public async Task Commits_append_progress_the_view_shows_it_and_compaction_folds_it_into_stream_rows()
    {
        await using var kit = StorageTestKit.Create();
        var first = Flush(Opened(), Batch(Start, Events(1, 3)));
        var second = Flush(first.State, Batch(Start, Events(4, 2))) with { SinkHasRow = true };
        var third = Flush(second.State, closedAt: Start.AddMinutes(1), Batch(Start, Events(6, 1), rejected: 2)) with { SinkHasRow = true };
        var key = first.State.Key;

        await using (var sink = UncompactedSink(kit))
        {
            foreach (var flush in new[] { first, second, third })
                await sink.WriteAsync(flush, CancellationToken.None);

            Assert.Equal(3, await kit.CountAsync($"SELECT count(*) FROM stream_progress WHERE id = '{key}'"));
            await AssertRowAsync(kit, "stream_rows", key.Value, events: 3, first.State.Bytes, rejected: 0, closed: false);
            await AssertRowAsync(kit, "streams", key.Value, events: 6, third.State.Bytes, rejected: 2, closed: true);
            Assert.Equal(third.State, await LoadAsync(kit, key));
        }

        // Disposing the sink compacts what is left.
        Assert.Equal(0, await kit.CountAsync("SELECT count(*) FROM stream_progress"));
        await AssertRowAsync(kit, "stream_rows", key.Value, events: 6, third.State.Bytes, rejected: 2, closed: true);
        await AssertRowAsync(kit, "streams", key.Value, events: 6, third.State.Bytes, rejected: 2, closed: true);
        Assert.Equal(third.State, await LoadAsync(kit, key));
    }

    [Fact]
    public async Task A_stream_reopened_at_the_same_position_is_open_before_and_after_compaction()
    {
        await using var kit = StorageTestKit.Create();
        var written = Flush(Opened(), Batch(Start, Events(1, 4)));
        var closed = written.State with { ClosedAt = Start.AddMinutes(1) };
        var reopened = closed with { ClosedAt = null };

        await using (var sink = UncompactedSink(kit))
        {
            await sink.WriteAsync(written, CancellationToken.None);
            await sink.WriteAsync(new(closed, []) { SinkHasRow = true }, CancellationToken.None);
            await sink.WriteAsync(new(reopened, []) { SinkHasRow = true }, CancellationToken.None);

            await AssertRowAsync(kit, "streams", written.State.Key.Value, events: 4, written.State.Bytes, rejected: 0, closed: false);
        }

        await AssertRowAsync(kit, "stream_rows", written.State.Key.Value, events: 4, written.State.Bytes, rejected: 0, closed: false);
    }

    [Fact]
    public async Task A_row_never_moves_back_in_the_view_or_in_compaction()
    {
        await using var kit = StorageTestKit.Create();
        var ahead = Flush(Opened(), Batch(Start, Events(1, 10)));
        var behind = ahead.State with { Events = 5, Bytes = 50 };

        await using (var sink = kit.Sink())
            await sink.WriteAsync(ahead, CancellationToken.None);
        await using (var sink = UncompactedSink(kit))
        {
            await sink.WriteAsync(new(behind, []) { SinkHasRow = true }, CancellationToken.None);
            await AssertRowAsync(kit, "streams", ahead.State.Key.Value, events: 10, ahead.State.Bytes, rejected: 0, closed: false);
        }

        await AssertRowAsync(kit, "stream_rows", ahead.State.Key.Value, events: 10, ahead.State.Bytes, rejected: 0, closed: false);
    }

    [Fact]
    public async Task A_flush_that_does_not_know_of_the_row_keeps_the_metadata_first_written()
    {
        await using var kit = StorageTestKit.Create();
        var first = Flush(Opened(remoteAddress: "10.0.0.1"), Batch(Start, Events(1, 2)));
        // A grain that could not tell whether the row exists says so; the row's opening metadata stays.
        var again = Flush(first.State with { RemoteAddress = "10.9.9.9" }, Batch(Start, Events(3, 2)));

        await using (var sink = kit.Sink())
        {
            await sink.WriteAsync(first, CancellationToken.None);
            await sink.WriteAsync(again, CancellationToken.None);
        }

        var row = (await kit.QueryRowsAsync($"SELECT remote_addr, events FROM streams WHERE id = '{first.State.Key}'")).Single();
        Assert.Equal("10.0.0.1", row.GetProperty("remote_addr").GetString());
        Assert.Equal(4, row.GetProperty("events").GetInt64());
        Assert.Equal(4, await kit.CountAsync("SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task A_file_with_the_earlier_streams_table_is_upgraded_when_opened()
    {
        await using var kit = StorageTestKit.Create();
        var written = Flush(Opened(), closedAt: Start.AddMinutes(2), Batch(Start, Events(1, 3), rejected: 1));
        await using (var sink = kit.Sink())
            await sink.WriteAsync(written, CancellationToken.None);
        // Back to the layout of files written before stream_progress, and before the resume counts.
        using (var connection = kit.Database.Connect())
        {
            connection.Execute("""
                DROP VIEW streams; DROP TABLE stream_progress; ALTER TABLE stream_rows RENAME TO streams;
                ALTER TABLE streams DROP COLUMN duplicates; ALTER TABLE streams DROP COLUMN sinks;
                """);
        }

        kit.Reopen();

        Assert.Equal(0, await kit.CountAsync("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'streams'"));
        await AssertRowAsync(kit, "streams", written.State.Key.Value, events: 3, written.State.Bytes, rejected: 1, closed: true);
        Assert.Equal(written.State, await LoadAsync(kit, written.State.Key));
        var more = Flush(written.State with { ClosedAt = null }, Batch(Start, Events(5, 2))) with { SinkHasRow = true };
        await using (var sink = kit.Sink())
            await sink.WriteAsync(more, CancellationToken.None);
        await AssertRowAsync(kit, "streams", written.State.Key.Value, events: 5, more.State.Bytes, rejected: 1, closed: false);
        Assert.Equal(5, await kit.CountAsync("SELECT count(*) FROM events"));
    }

    /// <summary>A sink that never compacts on its own, only when disposed.</summary>
    private static DuckDbEventSink UncompactedSink(StorageTestKit kit) =>
        new(new FlushGroupWriter(kit.Database.Connect()), kit.Database.Options.MaxQueuedBytes,
            NullLogger<DuckDbEventSink>.Instance, compactInterval: TimeSpan.MaxValue);

    private static async Task<Ingest.Grains.StreamState?> LoadAsync(StorageTestKit kit, Ingest.Contracts.StreamKey key)
    {
        using var store = kit.Store();
        return await store.LoadAsync(key, CancellationToken.None);
    }

    private static async Task AssertRowAsync(StorageTestKit kit, string table, string id, long events, long bytes, long rejected, bool closed)
    {
        JsonElement row = (await kit.QueryRowsAsync($"SELECT events, bytes, rejected, closed_at IS NOT NULL AS closed FROM {table} WHERE id = '{id}'")).Single();
        Assert.Equal(
            (events, bytes, rejected, closed),
            (row.GetProperty("events").GetInt64(), row.GetProperty("bytes").GetInt64(), row.GetProperty("rejected").GetInt64(), row.GetProperty("closed").GetBoolean()));
    }
}
