using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>The tables the storage writes; applying them is idempotent.</summary>
/// <remarks>
/// A stream's row lives in two places: <c>stream_rows</c> holds it as it was when last compacted,
/// and <c>stream_progress</c> the counts committed since, a row per stream per commit. The view
/// <c>streams</c> shows the newest of the two, so readers never see the split.
/// <para>
/// Events live in two tables of the same shape, <c>events_a</c> and <c>events_b</c>, and the view
/// <c>events</c> is both. The writer appends to one at a time, and moves to the other before a
/// background checkpoint: DuckDB holds back an insert into a table while a checkpoint writes that
/// table, so the writer keeps committing into the half the checkpoint is not rewriting.
/// </para>
/// </remarks>
internal static class DuckDbSchema
{
    /// <summary>The view of all events.</summary>
    public const string EventsView = "events";

    private const string EventsA = "events_a";
    private const string EventsB = "events_b";

    /// <summary>The tables behind <see cref="EventsView"/>; the writer appends to one at a time.</summary>
    public static readonly IReadOnlyList<string> EventTables = [EventsA, EventsB];

    public const string ProgressTable = "stream_progress";

    /// <summary>Each stream's newest progress row: the furthest position, then the latest commit.</summary>
    public const string LatestProgress = """
        SELECT * FROM stream_progress
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY events + rejected DESC, version DESC) = 1
        """;

    // The event tables have no index or key on purpose: appends stay fast, and queries scan them anyway.
    private const string EventColumns = "stream_id VARCHAR NOT NULL, seq BIGINT NOT NULL, received_at TIMESTAMPTZ NOT NULL, payload JSON NOT NULL";

    private const string Create = $"""
        CREATE TABLE IF NOT EXISTS stream_rows (
          id VARCHAR PRIMARY KEY, transport VARCHAR NOT NULL, remote_addr VARCHAR, headers JSON NOT NULL,
          opened_at TIMESTAMPTZ NOT NULL, closed_at TIMESTAMPTZ,
          events BIGINT NOT NULL, bytes BIGINT NOT NULL, rejected BIGINT NOT NULL,
          duplicates BIGINT NOT NULL DEFAULT 0, sinks VARCHAR NOT NULL DEFAULT 'duckdb');
        CREATE TABLE IF NOT EXISTS stream_progress (
          id VARCHAR NOT NULL, version BIGINT NOT NULL, closed_at TIMESTAMPTZ,
          events BIGINT NOT NULL, bytes BIGINT NOT NULL, rejected BIGINT NOT NULL, duplicates BIGINT NOT NULL);
        CREATE OR REPLACE VIEW streams AS
        SELECT r.id, r.transport, r.remote_addr, r.headers, r.opened_at,
               CASE WHEN p.id IS NULL THEN r.closed_at ELSE p.closed_at END AS closed_at,
               coalesce(p.events, r.events) AS events, coalesce(p.bytes, r.bytes) AS bytes,
               coalesce(p.rejected, r.rejected) AS rejected, coalesce(p.duplicates, r.duplicates) AS duplicates,
               r.sinks
        FROM stream_rows AS r
        LEFT JOIN ({LatestProgress}) AS p ON p.id = r.id AND p.events + p.rejected >= r.events + r.rejected;
        CREATE TABLE IF NOT EXISTS {EventsA} ({EventColumns});
        CREATE TABLE IF NOT EXISTS {EventsB} ({EventColumns});
        CREATE OR REPLACE VIEW {EventsView} AS
        SELECT * FROM {EventsA} UNION ALL SELECT * FROM {EventsB};
        """;

    // Files from before stream_progress kept each stream's row, updated on every commit, in the
    // table streams; it becomes stream_rows, and streams the view. Older files still lacked the
    // resume counts, and a stream of theirs went to DuckDB alone.
    private const string UpgradeStreamsTable = """
        ALTER TABLE streams ADD COLUMN IF NOT EXISTS duplicates BIGINT DEFAULT 0;
        ALTER TABLE streams ADD COLUMN IF NOT EXISTS sinks VARCHAR DEFAULT 'duckdb';
        ALTER TABLE streams RENAME TO stream_rows;
        """;

    // Files from before the two halves kept every event in the table events; it becomes the first half.
    private const string UpgradeEventsTable = $"ALTER TABLE {EventsView} RENAME TO {EventsA}";

    /// <summary>Creates what is missing, and brings a file of an earlier layout up to this one.</summary>
    public static void Apply(DuckDbConnection connection)
    {
        connection.Execute("BEGIN TRANSACTION");
        try
        {
            if (IsTable(connection, "streams"))
                connection.Execute(UpgradeStreamsTable);
            if (IsTable(connection, EventsView))
                connection.Execute(UpgradeEventsTable);
            connection.Execute(Create);
            connection.Execute("COMMIT");
        }
        catch
        {
            connection.Execute("ROLLBACK");
            throw;
        }
    }

    private static bool IsTable(DuckDbConnection connection, string name)
    {
        using var statement = connection.Prepare($"""
            SELECT count(*) FROM duckdb_tables()
            WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = '{name}'
            """);
        using var result = statement.Execute();
        using var chunk = result.FetchChunk() ?? throw result.Failure();
        return new DuckDbColumn(chunk, 0).GetInt64(0) > 0;
    }
}
