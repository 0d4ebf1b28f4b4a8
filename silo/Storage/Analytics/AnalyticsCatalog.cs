using Ingest.Silo.Storage.Postgres;
using Npgsql;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Reads what the shared analytics storage holds from its PostgreSQL catalog. Cheap enough to
/// run before every query: one statement, one round trip.
/// </summary>
public sealed class AnalyticsCatalog(PostgresDatabase database)
{
    // The LEFT JOIN answers one row even before anything was published.
    private const string Sql = """
        SELECT (SELECT coalesce(array_agg(path ORDER BY min_received_at, id), '{}')
                FROM segments WHERE retired_at IS NULL),
               c.generation, c.streams_path, c.published_at
        FROM (SELECT 1) AS one LEFT JOIN analytics_catalog c ON c.id = 1
        """;

    /// <summary>The live segments and the current streams snapshot.</summary>
    public async Task<CatalogSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.CreateCommand(Sql);
        return await ReadAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The same, inside a transaction of the caller's, so it agrees with the rest of what that transaction reads.</summary>
    internal static async Task<CatalogSnapshot> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, connection, transaction);
        return await ReadAsync(command, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<CatalogSnapshot> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new CatalogSnapshot(
            reader.GetFieldValue<string[]>(0),
            reader.IsDBNull(1) ? 0 : reader.GetInt64(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
    }
}
