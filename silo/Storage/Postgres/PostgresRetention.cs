using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Silo.Storage.Postgres;

/// <summary>
/// Drops the days of events older than <see cref="PostgresOptions.Retention"/>, a whole partition
/// at a time, and the rows of streams idle that long. Nodes may all run it: an advisory lock
/// lets one at a time do the work, and the others skip the round.
/// </summary>
public sealed partial class PostgresRetention(PostgresDatabase database, ILogger<PostgresRetention> logger)
{
    private const string PartitionsSql = """
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass
        """;

    // Dropping a partition waits for the writers using it; a round gives up rather than stall them long.
    private const string LockTimeout = "SET LOCAL lock_timeout = '10s'";

    public PostgresOptions Options => database.Options;

    /// <summary>Drops what is older than <paramref name="now"/> minus the retention, in one transaction.</summary>
    /// <returns>How many day partitions were dropped; 0 when another node holds the round.</returns>
    public async Task<int> RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - database.Options.Retention;
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@lock)", connection, transaction))
        {
            take.Parameters.AddWithValue("lock", PostgresSchema.RetentionLock);
            if (await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
            {
                LogSkipped();
                return 0;
            }
        }
        await using (var timeout = new NpgsqlCommand(LockTimeout, connection, transaction))
            await timeout.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        // Rows first: deleting takes only row locks, while a dropped partition stays locked
        // against writers until the commit, which should come right after.
        int streams;
        await using (var delete = new NpgsqlCommand("DELETE FROM streams WHERE updated_at < @cutoff", connection, transaction))
        {
            delete.Parameters.AddWithValue("cutoff", cutoff.UtcDateTime);
            streams = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var expired = new List<string>();
        await using (var list = new NpgsqlCommand(PartitionsSql, connection, transaction))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.GetString(0);
                // A day is dropped once all of it is older than the cutoff.
                if (PostgresSchema.TryParsePartition(name, out var day) && ToUtc(day.AddDays(1)) <= cutoff)
                    expired.Add(name);
            }
        }
        expired.Sort(StringComparer.Ordinal);
        foreach (var name in expired)
        {
            await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS \"{name}\"", connection, transaction);
            await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        if (expired.Count > 0 || streams > 0)
        {
            var names = string.Join(", ", expired);
            LogDropped(expired.Count, names, streams, cutoff);
        }
        return expired.Count;
    }

    private static DateTimeOffset ToUtc(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention dropped {Partitions} days of events ({Names}) and {Streams} idle streams' rows, older than {Cutoff:O}")]
    private partial void LogDropped(int partitions, string names, int streams, DateTimeOffset cutoff);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retention skipped this round: another node is running it")]
    private partial void LogSkipped();
}
