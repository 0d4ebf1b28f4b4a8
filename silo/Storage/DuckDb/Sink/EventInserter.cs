using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Inserts the events of a commit's flush parts into an event table, in the connection's current
/// transaction: one INSERT per event table, prepared once, reading <see cref="EventRows"/> through
/// a <see cref="DuckDbRowFunction"/>. Used by one thread.
/// </summary>
internal sealed class EventInserter : IDisposable
{
    private static readonly (string Name, DuckDbType Type)[] Columns =
        [("stream_id", DuckDbType.Varchar), ("seq", DuckDbType.BigInt), ("received_at", DuckDbType.TimestampTz), ("payload", DuckDbType.Varchar)];

    private readonly EventRows _rows = new();
    private readonly DuckDbRowFunction _function;
    private readonly DuckDbPreparedStatement[] _inserts;

    /// <param name="tables">The event tables it may insert into, all shaped like <c>events</c>.</param>
    public EventInserter(DuckDbConnection connection, IReadOnlyList<string> tables)
    {
        _function = DuckDbRowFunction.Register(connection, "ingest_event_rows", ColumnsOf(connection, tables[0]));
        _inserts = new DuckDbPreparedStatement[tables.Count];
        try
        {
            for (var i = 0; i < tables.Count; i++)
                _inserts[i] = connection.Prepare($"INSERT INTO {tables[i]} SELECT * FROM {_function.Call}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Inserts the parts' events into table <paramref name="table"/> (an index into the tables given).</summary>
    /// <returns>The events inserted.</returns>
    public long Insert(List<FlushPart> parts, int table)
    {
        var events = _rows.Start(parts);
        try
        {
            if (events > 0)
                _function.Run(_inserts[table], _rows, events);
            return events;
        }
        finally
        {
            _rows.Clear();
        }
    }

    public void Dispose()
    {
        foreach (var insert in _inserts)
            insert?.Dispose();
    }

    /// <summary>
    /// The event table's column types as DuckDB has them (the payload is JSON, which a plain VARCHAR
    /// would be cast to, and parsed again), checked against what <see cref="EventRows"/> writes.
    /// The caller owns the types.
    /// </summary>
    public static (string Name, DuckDbLogicalTypeHandle Type)[] ColumnsOf(DuckDbConnection connection, string table) =>
        DuckDbRowFunction.ColumnsOf(connection, table, Columns);
}
