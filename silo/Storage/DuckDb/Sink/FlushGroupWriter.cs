using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.DuckDb.Native;

namespace Ingest.Silo.Storage.DuckDb.Sink;

/// <summary>
/// Writes parts of a group of flushes (<see cref="FlushPart"/>), from any number of streams, in one transaction on the connection
/// it owns: every event through one prepared INSERT into the current half of the events
/// (<see cref="EventHalves"/>), its rows written by <see cref="EventRows"/> into the chunks of a
/// <see cref="DuckDbRowFunction"/>, then each stream's new counts (<see cref="StreamRows"/>).
/// Used by one thread.
/// </summary>
internal sealed class FlushGroupWriter : IFlushGroupWriter
{
    private readonly DuckDbConnection _connection;
    private readonly StreamRows _streamRows;
    private readonly Dictionary<StreamKey, (StreamState State, bool HasRow)> _latest = [];
    private readonly EventInserter? _events;

    public FlushGroupWriter(DuckDbConnection connection)
    {
        _connection = connection;
        Halves = new EventHalves();
        try
        {
            _streamRows = new StreamRows(connection);
            _events = new EventInserter(connection, DuckDbSchema.EventTables);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Which half of the events the writes go to; a checkpointer moves them.</summary>
    public EventHalves Halves { get; }

    /// <summary>Stream counts committed since the last <see cref="Compact"/>.</summary>
    public long Uncompacted => _streamRows.Unfolded;

    /// <summary>Commits all the parts or, on any error, none of them.</summary>
    /// <returns>The events written and the streams whose rows were written.</returns>
    public (long Events, int Streams) Write(List<FlushPart> parts)
    {
        var half = Halves.Current;
        _connection.Execute("BEGIN TRANSACTION");
        try
        {
            var events = _events!.Insert(parts, (int)(half & 1));

            // Each stream's counts are written once, with the state of its latest part. A flush's
            // later part follows a commit that made the stream's row.
            _latest.Clear();
            foreach (var part in parts)
            {
                var flush = part.Pending.Flush;
                var hasRow = (flush.SinkHasRow || part.From > 0) && (!_latest.TryGetValue(flush.State.Key, out var earlier) || earlier.HasRow);
                _latest[flush.State.Key] = (part.State, hasRow);
            }
            _streamRows.Write(_connection, _latest.Values);

            _connection.Execute("COMMIT");
            Halves.Committed(half);
            return (events, _latest.Count);
        }
        catch
        {
            Rollback();
            throw;
        }
    }

    public void Compact() => _streamRows.Compact(_connection);

    public void Dispose()
    {
        _events?.Dispose();
        _streamRows?.Dispose();
        _connection.Dispose();
    }

    private void Rollback()
    {
        try
        {
            _connection.Execute("ROLLBACK");
        }
        catch (DuckDbException)
        {
            // A failed COMMIT has already ended the transaction; there is nothing to roll back.
        }
    }
}
