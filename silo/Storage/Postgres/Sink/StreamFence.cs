using Ingest.Grains;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Silo.Storage.Postgres.Sink;

/// <summary>
/// Keeps two nodes from storing the same events of a stream. Inside the writing transaction, each
/// stream of the group is locked (a transaction-scoped advisory lock, which also covers streams
/// that have no row yet), and a flush that assumes less than the stream's row holds is refused
/// with <see cref="StreamConflictException"/>: another node wrote those events first.
/// </summary>
internal static class StreamFence
{
    /// <summary>Locks the group's streams, reads what <paramref name="table"/> holds of them, and refuses the flushes that conflict.</summary>
    /// <returns>The flushes still to write; the refused ones are faulted and left out.</returns>
    public static async Task<List<PendingFlush>> ApplyAsync(
        NpgsqlConnection connection, string table, List<PendingFlush> group, CancellationToken cancellationToken)
    {
        var ids = new string[group.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = group[i].Flush.State.Key.Value;
        // Always in the same order, so writers locking overlapping sets cannot deadlock.
        var keys = ids.Select(LockKey).Distinct().Order().ToArray();

        await using var batch = new NpgsqlBatch(connection);
        var locking = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock(@class, k) FROM unnest(@keys) AS k");
        locking.Parameters.AddWithValue("class", PostgresSchema.StreamLockClass);
        locking.Parameters.Add(new NpgsqlParameter<int[]>("keys", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = keys });
        var reading = new NpgsqlBatchCommand($"SELECT id, events + rejected FROM {table} WHERE id = ANY(@ids)");
        reading.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        batch.BatchCommands.Add(locking);
        batch.BatchCommands.Add(reading);

        var stored = new Dictionary<string, long>(ids.Length);
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                stored[reader.GetString(0)] = reader.GetInt64(1);
        }

        var kept = new List<PendingFlush>(group.Count);
        foreach (var pending in group)
        {
            var flush = pending.Flush;
            if (flush.SinkPosition is { } expected && stored.TryGetValue(flush.State.Key.Value, out var position) && position > expected)
                pending.TrySetException(new StreamConflictException(flush.State.Key, position, expected));
            else
                kept.Add(pending);
        }
        return kept;
    }

    /// <summary>A stable 32-bit FNV-1a hash of the stream id; collisions only make unrelated streams take turns.</summary>
    private static int LockKey(string id)
    {
        var hash = 2166136261u;
        foreach (var c in id)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return unchecked((int)hash);
    }
}
