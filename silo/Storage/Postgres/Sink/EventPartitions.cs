using Npgsql;

namespace Ingest.Silo.Storage.Postgres.Sink;

/// <summary>
/// Creates the day partitions of <c>events</c> that a group's events fall in, before the group's
/// transaction starts, and remembers which exist so a day costs one round trip per process.
/// </summary>
internal sealed class EventPartitions
{
    private readonly HashSet<DateOnly> _known = [];
    private readonly List<DateOnly> _missing = [];

    /// <summary>Creates whichever partitions the group needs and this process has not seen yet.</summary>
    public async Task EnsureAsync(NpgsqlConnection connection, List<PendingFlush> group, CancellationToken cancellationToken)
    {
        _missing.Clear();
        foreach (var pending in group)
        {
            var batches = pending.Flush.Batches;
            for (var i = 0; i < batches.Count; i++)
            {
                if (batches[i].Count == 0)
                    continue;
                var day = PostgresSchema.DayOf(batches[i].ReceivedAt);
                if (!_known.Contains(day) && !_missing.Contains(day))
                    _missing.Add(day);
            }
        }
        foreach (var day in _missing)
        {
            await CreateAsync(connection, day, cancellationToken).ConfigureAwait(false);
            _known.Add(day);
        }
    }

    /// <summary>Forgets what exists, after retention may have dropped a partition this process knew.</summary>
    public void Forget() => _known.Clear();

    /// <summary>
    /// Creates one day's partition in a short transaction of its own. Two nodes creating the same
    /// day at once would collide in the catalog (a duplicate-key error despite IF NOT EXISTS), so
    /// they take turns on an advisory lock keyed by the day; the second finds the table there.
    /// </summary>
    public static async Task CreateAsync(NpgsqlConnection connection, DateOnly day, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock(@class, @day); {PostgresSchema.CreatePartition(day)}", connection, transaction))
        {
            command.Parameters.AddWithValue("class", PostgresSchema.PartitionLockClass);
            command.Parameters.AddWithValue("day", PostgresSchema.PartitionLockKey(day));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
