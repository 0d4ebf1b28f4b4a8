namespace Ingest.Silo.Storage.DuckDb;

/// <summary>The tables the storage writes; creating them is idempotent.</summary>
internal static class DuckDbSchema
{
    // events has no index or key on purpose: appends stay fast, and queries scan it anyway.
    public const string Create = """
        CREATE TABLE IF NOT EXISTS streams (
          id VARCHAR PRIMARY KEY, transport VARCHAR NOT NULL, remote_addr VARCHAR, headers JSON NOT NULL,
          opened_at TIMESTAMPTZ NOT NULL, closed_at TIMESTAMPTZ,
          events BIGINT NOT NULL, bytes BIGINT NOT NULL, rejected BIGINT NOT NULL,
          duplicates BIGINT NOT NULL DEFAULT 0, sinks VARCHAR NOT NULL DEFAULT 'duckdb');
        -- Files written before streams could resume lack the resume counts; a stream of theirs went to DuckDB alone.
        ALTER TABLE streams ADD COLUMN IF NOT EXISTS duplicates BIGINT DEFAULT 0;
        ALTER TABLE streams ADD COLUMN IF NOT EXISTS sinks VARCHAR DEFAULT 'duckdb';
        CREATE TABLE IF NOT EXISTS events (
          stream_id VARCHAR NOT NULL, seq BIGINT NOT NULL, received_at TIMESTAMPTZ NOT NULL, payload JSON NOT NULL);
        """;

    public const string EventsTable = "events";
}
