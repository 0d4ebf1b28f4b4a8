using Npgsql;

namespace Ingest.Tests.Infrastructure;

/// <summary>Reads back what a node wrote to PostgreSQL, on a connection of its own.</summary>
internal static class PostgresReader
{
    public static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Every event 1..<paramref name="last"/> of the stream exactly once, under the sequence number the client gave it.</summary>
    public static async Task AssertStoredOnceInOrderAsync(string connectionString, string stream, int last)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select seq, (payload->>'nonce')::bigint from events where stream_id = @stream order by seq", connection);
        command.Parameters.AddWithValue("stream", stream);
        var seqs = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Assert.Equal(reader.GetInt64(0), reader.GetInt64(1));
            seqs.Add(reader.GetInt64(0));
        }
        Assert.Equal(Enumerable.Range(1, last).Select(i => (long)i), seqs);
    }
}
