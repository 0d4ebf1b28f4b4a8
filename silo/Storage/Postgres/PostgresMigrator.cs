using Npgsql;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>
/// Brings a database up to <see cref="PostgresSchema.Migrations"/>. Every node runs it at start;
/// one transaction holding an advisory lock makes nodes starting together take turns, and the
/// ones that come second find nothing left to do.
/// </summary>
public static class PostgresMigrator
{
    private const string Prepare = """
        SELECT pg_advisory_xact_lock(@lock);
        CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL);
        """;

    /// <summary>Applies the migrations the database lacks, all or none.</summary>
    /// <returns>The versions applied by this call, in order; empty when the database was up to date.</returns>
    public static Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        MigrateAsync(dataSource, PostgresSchema.Migrations, cancellationToken);

    internal static async Task<IReadOnlyList<int>> MigrateAsync(
        NpgsqlDataSource dataSource, IReadOnlyList<PostgresMigration> migrations, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var prepare = new NpgsqlCommand(Prepare, connection, transaction))
        {
            prepare.Parameters.AddWithValue("lock", PostgresSchema.MigrationLock);
            await prepare.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var applied = new HashSet<int>();
        await using (var read = new NpgsqlCommand("SELECT version FROM schema_migrations", connection, transaction))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                applied.Add(reader.GetInt32(0));
        }

        var done = new List<int>();
        foreach (var migration in migrations.OrderBy(m => m.Version))
        {
            if (applied.Contains(migration.Version))
                continue;
            await using (var apply = new NpgsqlCommand(migration.Sql, connection, transaction))
                await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, applied_at) VALUES (@version, now())", connection, transaction))
            {
                record.Parameters.AddWithValue("version", migration.Version);
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            done.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return done;
    }
}
