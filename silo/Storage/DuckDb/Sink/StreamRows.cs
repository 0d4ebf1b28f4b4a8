using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Keeps the streams' rows without updating a row per commit. A commit appends each stream's
/// new counts to <c>stream_progress</c>, and inserts a <c>stream_rows</c> row only for a stream
/// new to the file. <see cref="Compact"/> later folds the progress into <c>stream_rows</c>, in
/// one update for many commits. The view <c>streams</c> joins the two, so readers always see
/// the newest counts.
/// </summary>
/// <remarks>
/// An upsert of every stream's row cost 4 ms of an 8 ms commit at 150,000 WebSocket events/s:
/// DuckDB updates are slow beside appends. Appending the same counts costs about half a millisecond,
/// most of it DuckDB's appender planning an INSERT at every flush (8% of the writer's time at
/// 440,000 WebSocket events/s), so the progress rows go in through an INSERT prepared once over a
/// <see cref="DuckDbRowFunction"/>, as the events do.
/// </remarks>
internal sealed class StreamRows : IDisposable
{
    private const string NewRowsTable = "new_stream_rows";

    // A stream's row is made once; what changes later goes to stream_progress.
    private const string InsertNew = """
        INSERT INTO stream_rows (id, transport, remote_addr, headers, opened_at, closed_at, events, bytes, rejected, duplicates, sinks)
        SELECT id, transport, remote_addr, CAST(headers AS JSON), opened_at, closed_at, events, bytes, rejected, duplicates, sinks
        FROM new_stream_rows
        ON CONFLICT (id) DO NOTHING
        """;

    private const string Fold = $"""
        UPDATE stream_rows SET
          closed_at = p.closed_at, events = p.events, bytes = p.bytes, rejected = p.rejected, duplicates = p.duplicates
        FROM ({DuckDbSchema.LatestProgress}) AS p
        WHERE stream_rows.id = p.id AND stream_rows.events + stream_rows.rejected <= p.events + p.rejected;
        DELETE FROM stream_progress;
        """;

    private static readonly (string Name, DuckDbType Type)[] RowColumns =
    [
        ("id", DuckDbType.Varchar), ("transport", DuckDbType.Varchar), ("remote_addr", DuckDbType.Varchar),
        ("headers", DuckDbType.Varchar), ("opened_at", DuckDbType.TimestampTz), ("closed_at", DuckDbType.TimestampTz),
        ("events", DuckDbType.BigInt), ("bytes", DuckDbType.BigInt), ("rejected", DuckDbType.BigInt),
        ("duplicates", DuckDbType.BigInt), ("sinks", DuckDbType.Varchar),
    ];

    private readonly RowChunk _rows = new(RowColumns);
    private readonly ProgressRows _progress = new();
    private readonly DuckDbRowFunction _progressFunction;
    private readonly DuckDbPreparedStatement _insertProgress;
    private long _version;
    private long _unfolded;

    /// <param name="connection">Where the numbering of progress rows continues from; the connection it writes on.</param>
    public StreamRows(DuckDbConnection connection)
    {
        using (var statement = connection.Prepare("SELECT coalesce(max(version), 0), count(*) FROM stream_progress"))
        using (var result = statement.Execute())
        using (var chunk = result.FetchChunk() ?? throw result.Failure())
        {
            _version = new DuckDbColumn(chunk, 0).GetInt64(0);
            _unfolded = new DuckDbColumn(chunk, 1).GetInt64(0);
        }
        try
        {
            // The function keeps the types for as long as the database.
            var columns = DuckDbRowFunction.ColumnsOf(connection, DuckDbSchema.ProgressTable, ProgressRows.Columns);
            _progressFunction = DuckDbRowFunction.Register(connection, "ingest_progress_rows", columns);
            _insertProgress = connection.Prepare($"INSERT INTO {DuckDbSchema.ProgressTable} SELECT * FROM {_progressFunction.Call}");
        }
        catch
        {
            _rows.Dispose();
            throw;
        }
    }

    /// <summary>Progress rows not yet folded into <c>stream_rows</c>.</summary>
    public long Unfolded => _unfolded;

    /// <summary>Records each stream's state, inside the connection's current transaction.</summary>
    /// <param name="states">One entry per stream, with whether the file is known to hold its row.</param>
    public void Write(DuckDbConnection connection, Dictionary<StreamKey, (StreamState State, bool HasRow)>.ValueCollection states)
    {
        var version = _version + 1;
        var rows = _progress.Start(states, version);
        try
        {
            if (rows > 0)
                _progressFunction.Run(_insertProgress, _progress, rows);
        }
        finally
        {
            _progress.Clear();
        }
        var newRows = false;
        foreach (var (_, hasRow) in states)
            newRows |= !hasRow;
        if (newRows)
            InsertNewRows(connection, states);
        _version = version;
        _unfolded += states.Count;
    }

    /// <summary>
    /// Folds the progress rows into <c>stream_rows</c> and empties <c>stream_progress</c>, in a
    /// transaction of its own. The connection must have no transaction open.
    /// </summary>
    public void Compact(DuckDbConnection connection)
    {
        if (_unfolded == 0)
            return;
        connection.Execute("BEGIN TRANSACTION");
        try
        {
            connection.Execute(Fold);
            connection.Execute("COMMIT");
        }
        catch
        {
            try
            {
                connection.Execute("ROLLBACK");
            }
            catch (DuckDbException)
            {
                // A failed COMMIT has already ended the transaction.
            }
            throw;
        }
        _unfolded = 0;
    }

    public void Dispose()
    {
        _insertProgress.Dispose();
        _rows.Dispose();
    }

    private void InsertNewRows(DuckDbConnection connection, Dictionary<StreamKey, (StreamState State, bool HasRow)>.ValueCollection states)
    {
        using var appender = _rows.CreateQueryAppender(connection, InsertNew, NewRowsTable);
        _rows.Reset();
        foreach (var (state, hasRow) in states)
        {
            if (hasRow)
                continue;
            var row = _rows.NextRow(appender);
            _rows.WriteString(0, row, state.Key.Value);
            _rows.WriteString(1, row, state.Transport.ToWireName());
            _rows.WriteString(2, row, state.RemoteAddress);
            _rows.WriteString(3, row, state.HeadersJson);
            _rows.WriteInt64(4, row, DuckDbTimestamp.ToUnixMicros(state.OpenedAt));
            WriteTime(_rows, 5, row, state.ClosedAt);
            _rows.WriteInt64(6, row, state.Events);
            _rows.WriteInt64(7, row, state.Bytes);
            _rows.WriteInt64(8, row, state.Rejected);
            _rows.WriteInt64(9, row, state.Duplicates);
            _rows.WriteString(10, row, state.Sinks.ToNames());
        }
        _rows.AppendTo(appender);
        appender.Flush();
    }

    private static void WriteTime(RowChunk chunk, int column, int row, DateTimeOffset? value)
    {
        if (value is { } time)
            chunk.WriteInt64(column, row, DuckDbTimestamp.ToUnixMicros(time));
        else
            chunk.WriteNull(column, row);
    }
}
