using Ingest.Silo.Storage.DuckDb;
using Ingest.Tests.Infrastructure;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

public sealed class DuckDbDatabaseTests
{
    [Fact]
    public async Task Open_creates_the_directory_the_file_and_the_tables()
    {
        await using var kit = StorageTestKit.Create();

        Assert.True(File.Exists(kit.DatabasePath));
        var tables = await kit.QueryRowsAsync("SELECT table_name FROM duckdb_tables() ORDER BY 1");
        Assert.Equal(["events_a", "events_b", "stream_progress", "stream_rows"], tables.Select(t => t.GetProperty("table_name").GetString()));
        var views = await kit.QueryRowsAsync("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1");
        Assert.Equal(["events", "streams"], views.Select(t => t.GetProperty("view_name").GetString()));
    }

    [Theory]
    [InlineData(16_384)]
    [InlineData(65_536)]
    public async Task A_new_file_gets_the_configured_block_size_and_opens_again(int blockSize)
    {
        await using var kit = StorageTestKit.Create(options => options.BlockSize = blockSize);
        kit.Reopen();

        Assert.Equal(blockSize, await kit.CountAsync("SELECT block_size FROM pragma_database_size() WHERE database_name = current_database()"));
    }

    [Fact]
    public async Task Opening_again_keeps_the_tables_and_their_rows()
    {
        await using var kit = StorageTestKit.Create();
        await using (var sink = kit.Sink())
            await sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, 3))), CancellationToken.None);

        kit.Reopen();
        kit.Reopen();

        Assert.Equal(3, await kit.CountAsync("SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task A_file_with_the_earlier_events_table_is_upgraded_when_opened()
    {
        await using var kit = StorageTestKit.Create();
        var first = Flush(Opened(), Batch(Start, Events(1, 3)));
        await using (var sink = kit.Sink())
            await sink.WriteAsync(first, CancellationToken.None);
        // Back to the layout of files written before the two halves.
        using (var connection = kit.Database.Connect())
            connection.Execute("DROP VIEW events; DROP TABLE events_b; ALTER TABLE events_a RENAME TO events;");

        kit.Reopen();

        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM duckdb_views() WHERE view_name = 'events'"));
        Assert.Equal(3, await kit.CountAsync("SELECT count(*) FROM events_a"));
        await using (var sink = kit.Sink())
            await sink.WriteAsync(Flush(first.State, Batch(Start, Events(4, 2))) with { SinkHasRow = true }, CancellationToken.None);
        var seqs = await kit.QueryRowsAsync($"SELECT seq FROM events WHERE stream_id = '{first.State.Key}' ORDER BY seq");
        Assert.Equal([1, 2, 3, 4, 5], seqs.Select(r => r.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task After_dispose_duckdbs_own_client_reads_everything_committed()
    {
        await using var kit = StorageTestKit.Create();
        var flush = Flush(Opened(), Batch(Start, Events(1, 25, "warn")));
        await using (var sink = kit.Sink())
            await sink.WriteAsync(flush, CancellationToken.None);
        kit.Database.Dispose();

        Assert.False(File.Exists(kit.DatabasePath + ".wal"), "the checkpoint on dispose should have emptied the WAL into the file");
        var rows = await IndependentReader.QueryAsync(
            kit.DatabasePath,
            "SELECT count(*)::INT AS n, max(seq)::INT AS last, min(payload->>'level') AS level, (SELECT events::INT FROM streams) AS stream_events FROM events");

        Assert.Equal(25, rows[0].GetProperty("n").GetInt32());
        Assert.Equal(25, rows[0].GetProperty("last").GetInt32());
        Assert.Equal("warn", rows[0].GetProperty("level").GetString());
        Assert.Equal(25, rows[0].GetProperty("stream_events").GetInt32());
    }

    [Fact]
    public async Task Settings_keep_queries_inside_the_database()
    {
        await using var kit = StorageTestKit.Create();

        var settings = (await kit.QueryRowsAsync(
            "SELECT current_setting('enable_external_access') AS external, current_setting('lock_configuration') AS locked, current_setting('TimeZone') AS zone"))[0];

        Assert.False(settings.GetProperty("external").GetBoolean());
        Assert.True(settings.GetProperty("locked").GetBoolean());
        Assert.Equal("UTC", settings.GetProperty("zone").GetString());
    }

    [Fact]
    public void Unusable_options_are_refused_with_every_reason()
    {
        var options = new DuckDbOptions { Path = " ", Threads = -1 };

        var refused = Assert.Throws<ArgumentException>(() => DuckDbDatabase.Open(options));

        Assert.Contains("DuckDb:Path", refused.Message);
        Assert.Contains("DuckDb:Threads", refused.Message);
    }

    [Fact]
    public void A_memory_limit_duckdb_does_not_understand_is_reported()
    {
        using var directory = new TempDirectory();
        var options = new DuckDbOptions { Path = directory.File("x.duckdb"), MemoryLimit = "lots" };

        var refused = Assert.Throws<DuckDbException>(() => DuckDbDatabase.Open(options));

        Assert.Contains("memory_limit", refused.Message);
    }
}
