using System.Text;
using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb;

/// <summary>One connection with the <c>streams</c> point lookup prepared on it.</summary>
internal sealed class StreamLookup : IDisposable
{
    private const string Sql = """
        SELECT transport, remote_addr, CAST(headers AS VARCHAR), epoch_us(opened_at), epoch_us(closed_at),
               events, bytes, rejected, duplicates, sinks
        FROM streams WHERE id = $1
        """;

    private readonly DuckDbConnection _connection;
    private readonly DuckDbPreparedStatement _statement;

    public StreamLookup(DuckDbConnection connection)
    {
        _connection = connection;
        try
        {
            _statement = connection.Prepare(Sql);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public StreamState? Load(StreamKey key)
    {
        _statement.BindVarchar(1, key.Value);
        using var result = _statement.Execute();
        using var chunk = result.FetchChunk();
        if (chunk is null)
            return result.HasError ? throw result.Failure() : null;
        if (NativeMethods.DataChunk.Size(chunk) == 0)
            return null;

        var closedAt = new DuckDbColumn(chunk, 4);
        return new StreamState(
            key,
            StreamTransportNames.Parse(ReadString(chunk, 0)!),
            ReadString(chunk, 1),
            ReadString(chunk, 2)!,
            DuckDbTimestamp.FromUnixMicros(new DuckDbColumn(chunk, 3).GetInt64(0)),
            closedAt.IsNull(0) ? null : DuckDbTimestamp.FromUnixMicros(closedAt.GetInt64(0)),
            new DuckDbColumn(chunk, 5).GetInt64(0),
            new DuckDbColumn(chunk, 6).GetInt64(0),
            new DuckDbColumn(chunk, 7).GetInt64(0),
            new DuckDbColumn(chunk, 8).GetInt64(0),
            StorageSinkNames.Parse(ReadString(chunk, 9) ?? "duckdb"));
    }

    public void Dispose()
    {
        _statement.Dispose();
        _connection.Dispose();
    }

    private static string? ReadString(DuckDbDataChunkHandle chunk, int column)
    {
        var reader = new DuckDbColumn(chunk, column);
        return reader.IsNull(0) ? null : Encoding.UTF8.GetString(reader.GetBytes(0));
    }
}
