using Ingest.Contracts;
using Ingest.Grains;
using Npgsql;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>Reads a stream's row back when its grain activates: a primary-key lookup on a pooled connection.</summary>
public sealed class PostgresStreamStore(PostgresDatabase database, string table) : IStreamStore
{
    private readonly string _sql = $"""
        SELECT transport, remote_addr, headers::text, opened_at, closed_at, events, bytes, rejected, duplicates, sinks
        FROM {table} WHERE id = @id
        """;

    /// <summary>The store of the PostgreSQL sink's own rows.</summary>
    public PostgresStreamStore(PostgresDatabase database)
        : this(database, PostgresSchema.StreamsTable)
    {
    }

    /// <remarks>
    /// The headers come back as jsonb prints them: the same JSON, with keys in jsonb's order and
    /// its spacing, not byte for byte what was written.
    /// </remarks>
    public async ValueTask<StreamState?> LoadAsync(StreamKey key, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand(_sql);
        command.Parameters.AddWithValue("id", key.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new StreamState(
            key,
            StreamTransportNames.Parse(reader.GetString(0)),
            reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.GetString(2),
            reader.GetFieldValue<DateTimeOffset>(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
            reader.GetInt64(5),
            reader.GetInt64(6),
            reader.GetInt64(7),
            reader.GetInt64(8),
            StorageSinkNames.Parse(reader.GetString(9)));
    }
}
