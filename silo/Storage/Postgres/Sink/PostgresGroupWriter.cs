using Npgsql;

namespace Ingest.Silo.Storage.Postgres.Sink;

/// <summary>
/// Writes a group of flushes, from any number of streams, in one transaction on the connection
/// it holds: the partitions the events need first, in transactions of their own, then one COPY of
/// every event and one upsert of every stream's row, then COMMIT. Used by one writer at a time.
/// </summary>
internal sealed class PostgresGroupWriter(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    private const string PositionsSql = "SELECT id, events + rejected FROM streams WHERE id = ANY(@ids)";

    private readonly EventPartitions _partitions = new();
    private readonly EventCopy _events = new();
    private readonly StreamUpsert _streams = new();
    private NpgsqlConnection? _connection;

    /// <summary>Runs after each COMMIT; tests throw from it to lose a commit's acknowledgement.</summary>
    internal Func<ValueTask>? AfterCommit { get; set; }

    /// <summary>Commits the whole group or, on any error, none of it.</summary>
    /// <returns>The events written and the streams whose rows were written.</returns>
    public async Task<(long Events, int Streams)> WriteAsync(List<PendingFlush> group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await _partitions.EnsureAsync(connection, group, cancellationToken).ConfigureAwait(false);
        try
        {
            return await WriteTransactionAsync(connection, group, now, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation)
        {
            // "No partition found for row": retention dropped a day this process had created.
            // Only events has no constraint of its own, so the day is made again and tried once more.
            _partitions.Forget();
            await _partitions.EnsureAsync(connection, group, cancellationToken).ConfigureAwait(false);
            return await WriteTransactionAsync(connection, group, now, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The stored position (<c>events + rejected</c>) of each of the group's streams that has a
    /// row. Read before retrying a group whose COMMIT may have landed: the row is written in the
    /// same transaction as the events it counts, so a row at or past a flush means it committed.
    /// </summary>
    public async Task<Dictionary<string, long>> StoredPositionsAsync(List<PendingFlush> group, CancellationToken cancellationToken)
    {
        var ids = new string[group.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = group[i].Flush.State.Key.Value;

        var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(PositionsSql, connection);
        command.Parameters.AddWithValue("ids", ids);
        var positions = new Dictionary<string, long>(ids.Length);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            positions[reader.GetString(0)] = reader.GetInt64(1);
        return positions;
    }

    /// <summary>
    /// Lets go of the connection after a failure. After a network failure the pool's idle
    /// connections are most likely dead too, and each would cost a failed attempt to find out.
    /// </summary>
    public async ValueTask ResetAsync(bool clearPool)
    {
        var connection = _connection;
        _connection = null;
        if (clearPool)
            dataSource.Clear();
        if (connection is null)
            return;
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A broken connection may fail to close; it is gone either way.
        }
    }

    public ValueTask DisposeAsync() => ResetAsync(clearPool: false);

    private async ValueTask<NpgsqlConnection> ConnectAsync(CancellationToken cancellationToken) =>
        _connection ??= await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    private async Task<(long Events, int Streams)> WriteTransactionAsync(
        NpgsqlConnection connection, List<PendingFlush> group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        group = await StreamFence.ApplyAsync(connection, PostgresSchema.StreamsTable, group, cancellationToken).ConfigureAwait(false);
        if (group.Count == 0)
            return (0, 0);
        var events = await _events.WriteAsync(connection, group, cancellationToken).ConfigureAwait(false);
        var streams = await _streams.WriteAsync(connection, group, now, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (AfterCommit is { } afterCommit)
            await afterCommit().ConfigureAwait(false);
        return (events, streams);
    }
}
