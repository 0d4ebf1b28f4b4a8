using System.Text;
using Ingest.Silo.Storage.DuckDb.Native;
using Npgsql;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Copies <c>analytics_streams</c> into a Parquet file: rows come from PostgreSQL as JSON,
/// a batch at a time, into the <c>streams</c> table of an in-memory DuckDB, which then writes
/// the file. One bound string per batch keeps the round trips into DuckDB few without a
/// staging file.
/// </summary>
internal static class StreamsSnapshot
{
    // Times travel as microseconds since the epoch: exact, and no time zone to misread.
    private const string ReadSql = """
        SELECT json_build_object(
          'id', id, 'transport', transport, 'remote_addr', remote_addr, 'headers', headers,
          'opened_at', (extract(epoch FROM opened_at) * 1000000)::bigint,
          'closed_at', (extract(epoch FROM closed_at) * 1000000)::bigint,
          'events', events, 'bytes', bytes, 'rejected', rejected, 'duplicates', duplicates, 'sinks', sinks)::text
        FROM analytics_streams
        """;

    // stream_rows: the table under the view streams, which shows the rows as they are.
    private const string InsertSql = """
        INSERT INTO stream_rows
        SELECT s.id, s.transport, s.remote_addr, s.headers,
               CAST(make_timestamp(s.opened_at) AS TIMESTAMPTZ), CAST(make_timestamp(s.closed_at) AS TIMESTAMPTZ),
               s.events, s.bytes, s.rejected, s.duplicates, s.sinks
        FROM (SELECT unnest(from_json($1, '[{"id":"VARCHAR","transport":"VARCHAR","remote_addr":"VARCHAR","headers":"JSON",
              "opened_at":"BIGINT","closed_at":"BIGINT","events":"BIGINT","bytes":"BIGINT","rejected":"BIGINT",
              "duplicates":"BIGINT","sinks":"VARCHAR"}]')) AS s)
        """;

    private const int BatchChars = 1 << 20;

    /// <summary>
    /// Writes the rows <paramref name="transaction"/> sees to <paramref name="file"/>, replacing
    /// it atomically. <paramref name="duckDb"/> must be a fresh in-memory database's connection.
    /// </summary>
    /// <returns>How many streams the snapshot holds.</returns>
    public static async Task<long> WriteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DuckDbConnection duckDb, string file, CancellationToken cancellationToken)
    {
        using (var insert = duckDb.Prepare(InsertSql))
        {
            var batch = new StringBuilder();
            await using var command = new NpgsqlCommand(ReadSql, connection, transaction);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                batch.Append(batch.Length == 0 ? '[' : ',').Append(reader.GetString(0));
                if (batch.Length >= BatchChars)
                    Insert(insert, batch);
            }
            Insert(insert, batch);
        }

        var temp = SharedLayout.TempPathFor(file);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        try
        {
            var count = DuckDbSql.ExecuteInt64(
                duckDb, $"COPY (SELECT * FROM streams ORDER BY id) TO {DuckDbSql.Literal(temp)} (FORMAT parquet, COMPRESSION zstd)");
            DurableFile.Replace(temp, file);
            return count;
        }
        catch
        {
            DurableFile.Delete(temp);
            throw;
        }
    }

    private static void Insert(DuckDbPreparedStatement insert, StringBuilder batch)
    {
        if (batch.Length == 0)
            return;
        insert.BindVarchar(1, batch.Append(']').ToString());
        insert.ExecuteNonQuery();
        batch.Clear();
    }
}
