using Ingest.Silo.Storage.DuckDb;
using static Ingest.Tests.Storage.DuckDb.TestStreams;

namespace Ingest.Tests.Storage.DuckDb;

public sealed class DuckDbQueryServiceTests
{
    private const string Sample = """
        SELECT * FROM (VALUES
          (1, 'plain', '{"level":"warn","n":[1,2]}'::JSON, TIMESTAMPTZ '2026-11-21 12:00:00.5+00'),
          (2, 'he said "hi", then left', NULL, NULL))
        AS t(id, note, doc, seen) ORDER BY id
        """;

    [Fact]
    public async Task Json_is_an_array_of_row_objects_with_json_columns_embedded()
    {
        await using var kit = StorageTestKit.Create();

        var text = await kit.QueryAsync(Sample);

        Assert.Equal(
            """[{"id":1,"note":"plain","doc":{"level":"warn","n":[1,2]},"seen":"2026-11-21 12:00:00.5+00"},{"id":2,"note":"he said \"hi\", then left","doc":null,"seen":null}]""",
            text);
    }

    [Fact]
    public async Task Ndjson_is_one_row_object_per_line()
    {
        await using var kit = StorageTestKit.Create();

        var text = await kit.QueryAsync(Sample, QueryResultFormat.Ndjson);

        Assert.Equal(
            """
            {"id":1,"note":"plain","doc":{"level":"warn","n":[1,2]},"seen":"2026-11-21 12:00:00.5+00"}
            {"id":2,"note":"he said \"hi\", then left","doc":null,"seen":null}

            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public async Task Csv_has_a_header_quotes_where_needed_and_leaves_nulls_empty()
    {
        await using var kit = StorageTestKit.Create();

        var text = await kit.QueryAsync(Sample + ", note", QueryResultFormat.Csv);

        Assert.Equal(
            "id,note,doc,seen\r\n" +
            "1,plain,\"{\"\"level\"\":\"\"warn\"\",\"\"n\"\":[1,2]}\",2026-11-21 12:00:00.5+00\r\n" +
            "2,\"he said \"\"hi\"\", then left\",,\r\n",
            text);
    }

    [Fact]
    public async Task Stored_events_come_back_as_they_went_in()
    {
        await using var kit = StorageTestKit.Create();
        await using (var sink = kit.Sink())
            await sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, 3, "error"))), CancellationToken.None);

        var rows = await kit.QueryRowsAsync("SELECT seq, payload, payload->>'level' AS level, received_at FROM events ORDER BY seq");

        Assert.Equal(3, rows.Length);
        Assert.Equal(Event(2, "error"), rows[1].GetProperty("payload").GetRawText());
        Assert.Equal("error", rows[1].GetProperty("level").GetString());
        Assert.Equal("2026-11-21 12:00:00.123456+00", rows[1].GetProperty("received_at").GetString());
    }

    [Theory]
    [InlineData("DESCRIBE events", "column_name")]
    [InlineData("SHOW TABLES", "name")]
    [InlineData("SUMMARIZE events", "approx_unique")]
    [InlineData("WITH recent AS (SELECT * FROM events) SELECT count(*) AS n FROM recent;", "n")]
    [InlineData("EXPLAIN SELECT * FROM events", "explain_value")]
    [InlineData("SELECT * FROM pragma_table_info('streams') -- trailing comment", "notnull")]
    public async Task Statements_that_only_read_work(string sql, string column)
    {
        await using var kit = StorageTestKit.Create();

        var rows = await kit.QueryRowsAsync(sql);

        Assert.NotEmpty(rows);
        Assert.True(rows[0].TryGetProperty(column, out _), $"{column} missing from {rows[0]}");
    }

    [Theory]
    [InlineData("INSERT INTO events VALUES ('s', 1, now(), '{}')", "INSERT")]
    [InlineData("DROP TABLE events", "DROP")]
    [InlineData("COPY events TO 'events.csv'", "COPY")]
    [InlineData("ATTACH 'other.duckdb' AS other", "ATTACH")]
    [InlineData("SET threads = 1", "SET")]
    [InlineData("UPDATE streams SET events = 0", "UPDATE")]
    [InlineData("CREATE TABLE t AS SELECT 1", "CREATE")]
    [InlineData("CHECKPOINT", "CHECKPOINT")]
    [InlineData("PRAGMA enable_profiling", "PRAGMA")]
    public async Task Statements_that_would_change_state_are_refused_by_name(string sql, string statement)
    {
        await using var kit = StorageTestKit.Create();

        var refused = await Assert.ThrowsAsync<QueryRejectedException>(() => kit.QueryAsync(sql));

        Assert.StartsWith($"{statement} statements are not allowed", refused.Message);
        Assert.Contains("read-only", refused.Message);
        Assert.Equal(0, await kit.CountAsync("SELECT count(*) FROM events"));
    }

    [Fact]
    public async Task Two_statements_are_refused()
    {
        await using var kit = StorageTestKit.Create();

        var refused = await Assert.ThrowsAsync<QueryRejectedException>(() => kit.QueryAsync("SELECT 1; DROP TABLE events_a"));

        Assert.Contains("exactly one", refused.Message);
        Assert.Equal(1, await kit.CountAsync("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events_a'"));
    }

    [Theory]
    [InlineData("SELEC 1", "syntax error")]
    [InlineData("SELECT nope FROM events", "nope")]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration")]
    [InlineData("EXPLAIN ANALYZE INSERT INTO events_a VALUES ('s', 1, now(), '{}')", "read-only")]
    [InlineData("   ", "empty")]
    public async Task Bad_or_forbidden_queries_get_duckdbs_reason(string sql, string reason)
    {
        await using var kit = StorageTestKit.Create();

        var refused = await Assert.ThrowsAsync<QueryRejectedException>(() => kit.QueryAsync(sql));

        Assert.Contains(reason, refused.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_large_result_streams_through_in_chunks()
    {
        await using var kit = StorageTestKit.Create();

        var text = await kit.QueryAsync("SELECT i, 'row ' || i AS label FROM range(100000) t(i)", QueryResultFormat.Ndjson);

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(100_000, lines.Length);
        Assert.Equal("""{"i":99999,"label":"row 99999"}""", lines[^1]);
    }

    [Fact]
    public async Task Cancelling_interrupts_a_running_query_and_the_service_keeps_working()
    {
        await using var kit = StorageTestKit.Create(o => o.QueryConnections = 1);
        using var queries = kit.Queries();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var run = StorageTestKit.QueryAsync(
            queries, "SELECT sum(a.i * b.i) AS s FROM range(100000000) a(i), range(100000) b(i)", QueryResultFormat.Json, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("[{\"ok\":1}]", await StorageTestKit.QueryAsync(queries, "SELECT 1 AS ok", QueryResultFormat.Json));
    }

    [Fact]
    public async Task Queries_run_alongside_each_other_and_the_sink()
    {
        await using var kit = StorageTestKit.Create(o => o.QueryConnections = 3);
        await using var sink = kit.Sink();
        using var queries = kit.Queries();

        var writing = Task.WhenAll(Enumerable.Range(0, 100).Select(_ =>
            sink.WriteAsync(Flush(Opened(), Batch(Start, Events(1, 100))), CancellationToken.None).AsTask()));
        var reading = Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() =>
            StorageTestKit.QueryAsync(queries, "SELECT count(*) AS n FROM events", QueryResultFormat.Json))));
        await writing;
        var counts = await reading;

        Assert.All(counts, c => Assert.StartsWith("[{\"n\":", c));
        Assert.Equal(10_000, await kit.CountAsync("SELECT count(*) FROM events"));
    }
}
