using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>The tables the storage writes; applying them is idempotent.</summary>
/// <remarks>
/// A stream's row lives in two places: <c>stream_rows</c> holds it as it was when last compacted,
/// and <c>stream_progress</c> the counts committed since, a row per stream per commit. The view
/// <c>streams</c> shows the newest of the two, so readers never see the split.
/// </remarks>
internal static class DuckDbSchema
{
    public const string EventsTable = "events";

    public const string ProgressTable = "stream_progress";

    /// <summary>Each stream's newest progress row: the furthest position, then the latest commit.</summary>
    public const string LatestProgress = """
        SELECT * FROM stream_progress
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY events + rejected DESC, version DESC) = 1
        """;

    // events has no index or key on purpose: appends stay fast, and queries scan it anyway.
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
        CREATE TABLE IF NOT EXISTS events (
          stream_id VARCHAR NOT NULL, seq BIGINT NOT NULL, received_at TIMESTAMPTZ NOT NULL, payload JSON NOT NULL);
        """;

    // Files from before stream_progress kept each stream's row, updated on every commit, in the
    // table streams; it becomes stream_rows, and streams the view. Older files still lacked the
    // resume counts, and a stream of theirs went to DuckDB alone.
    private const string UpgradeStreamsTable = """
        ALTER TABLE streams ADD COLUMN IF NOT EXISTS duplicates BIGINT DEFAULT 0;
        ALTER TABLE streams ADD COLUMN IF NOT EXISTS sinks VARCHAR DEFAULT 'duckdb';
        ALTER TABLE streams RENAME TO stream_rows;
        """;

    private const string StreamsIsTable = """
        SELECT count(*) FROM duckdb_tables()
        WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = 'streams'
        """;

    /// <summary>Creates what is missing, and brings a file of an earlier layout up to this one.</summary>
    public static void Apply(DuckDbConnection connection)
    {
        connection.Execute("BEGIN TRANSACTION");
        try
        {
            if (Count(connection, StreamsIsTable) > 0)
                connection.Execute(UpgradeStreamsTable);
            connection.Execute(Create);
            connection.Execute("COMMIT");
        }
        catch
        {
            connection.Execute("ROLLBACK");
            throw;
        }
    }

    private static long Count(DuckDbConnection connection, string sql)
    {
        using var statement = connection.Prepare(sql);
        using var result = statement.Execute();
        using var chunk = result.FetchChunk() ?? throw result.Failure();
        return new DuckDbColumn(chunk, 0).GetInt64(0);
    }
}
