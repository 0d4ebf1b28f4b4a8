using Ingest.Contracts;
using Ingest.Grains;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Silo.Storage.Postgres.Sink;

/// <summary>
/// Writes the <c>streams</c> rows of a group with one set-based upsert over arrays, one element
/// per stream, whatever the number of streams: a statement per stream would cost a round trip each.
/// </summary>
internal sealed class StreamUpsert(string table = PostgresSchema.StreamsTable)
{
    // The opening metadata is the first flush's; later ones move only the counts and the close.
    // A row never moves back: a state behind the stored one (a late retry) changes nothing.
    private readonly string _sql = $"""
        INSERT INTO {table} AS s (id, transport, remote_addr, headers, opened_at, closed_at, events, bytes, rejected, duplicates, sinks, updated_at)
        SELECT u.id, u.transport, u.remote_addr, u.headers::jsonb, u.opened_at, u.closed_at, u.events, u.bytes, u.rejected, u.duplicates, u.sinks, @updated_at
        FROM unnest(@id, @transport, @remote_addr, @headers, @opened_at, @closed_at, @events, @bytes, @rejected, @duplicates, @sinks)
          AS u(id, transport, remote_addr, headers, opened_at, closed_at, events, bytes, rejected, duplicates, sinks)
        ON CONFLICT (id) DO UPDATE SET
          closed_at = excluded.closed_at, events = excluded.events, bytes = excluded.bytes, rejected = excluded.rejected,
          duplicates = excluded.duplicates, updated_at = excluded.updated_at
        WHERE s.events + s.rejected <= excluded.events + excluded.rejected
        """;

    private readonly Dictionary<StreamKey, StreamState> _latest = [];

    /// <summary>Upserts each stream's latest state in the group, inside the connection's current transaction.</summary>
    /// <returns>The streams written.</returns>
    public async Task<int> WriteAsync(
        NpgsqlConnection connection, List<PendingFlush> group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _latest.Clear();
        foreach (var pending in group)
            _latest[pending.Flush.State.Key] = pending.Flush.State;

        var count = _latest.Count;
        var ids = new string[count];
        var transports = new string[count];
        var remoteAddresses = new string?[count];
        var headers = new string[count];
        var openedAt = new DateTime[count];
        var closedAt = new DateTime?[count];
        var events = new long[count];
        var bytes = new long[count];
        var rejected = new long[count];
        var duplicates = new long[count];
        var sinks = new string[count];
        var row = 0;
        foreach (var state in _latest.Values)
        {
            ids[row] = state.Key.Value;
            transports[row] = state.Transport.ToWireName();
            remoteAddresses[row] = state.RemoteAddress;
            headers[row] = state.HeadersJson;
            openedAt[row] = state.OpenedAt.UtcDateTime;
            closedAt[row] = state.ClosedAt?.UtcDateTime;
            events[row] = state.Events;
            bytes[row] = state.Bytes;
            rejected[row] = state.Rejected;
            duplicates[row] = state.Duplicates;
            sinks[row] = state.Sinks.ToNames();
            row++;
        }

        await using var command = new NpgsqlCommand(_sql, connection);
        var parameters = command.Parameters;
        parameters.Add(new NpgsqlParameter<string[]>("id", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        parameters.Add(new NpgsqlParameter<string[]>("transport", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = transports });
        parameters.Add(new NpgsqlParameter<string?[]>("remote_addr", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = remoteAddresses });
        parameters.Add(new NpgsqlParameter<string[]>("headers", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = headers });
        parameters.Add(new NpgsqlParameter<DateTime[]>("opened_at", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = openedAt });
        parameters.Add(new NpgsqlParameter<DateTime?[]>("closed_at", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { TypedValue = closedAt });
        parameters.Add(new NpgsqlParameter<long[]>("events", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = events });
        parameters.Add(new NpgsqlParameter<long[]>("bytes", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = bytes });
        parameters.Add(new NpgsqlParameter<long[]>("rejected", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = rejected });
        parameters.Add(new NpgsqlParameter<long[]>("duplicates", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = duplicates });
        parameters.Add(new NpgsqlParameter<string[]>("sinks", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = sinks });
        parameters.Add(new NpgsqlParameter<DateTime>("updated_at", NpgsqlDbType.TimestampTz) { TypedValue = now.UtcDateTime });
        // Prepared once per physical connection; Npgsql finds the statement again on later groups.
        await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return count;
    }
}
