using Ingest.Contracts;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Native;
using Ingest.Silo.Storage.DuckDb.Sink;
using Ingest.Silo.Storage.Postgres;
using Ingest.Silo.Storage.Postgres.Sink;
using Npgsql;

namespace Ingest.Silo.Storage.Segments;

/// <summary>
/// Seals a group of flushes, from any number of streams, into one Parquet segment under the shared
/// directory, and records the segment and the streams' rows in PostgreSQL in one transaction. The
/// segment is part of the analytics data once that transaction commits, and not before: readers
/// list segments from PostgreSQL, so a file a crash left behind uncommitted is never read.
/// </summary>
internal sealed class SegmentGroupWriter : IFlushGroupWriter
{
    private const string InsertSegmentSql = """
        INSERT INTO segments (id, path, events, bytes, min_received_at, max_received_at, level, created_by, created_at)
        VALUES (@id, @path, @events, @bytes, @min, @max, 0, @node, now())
        """;

    private readonly DuckDbDatabase _stagingDatabase;
    private readonly DuckDbConnection _staging;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _sharedDirectory;
    private readonly string _nodeName;
    private readonly TimeProvider _time;
    private readonly StreamUpsert _streams = new(PostgresSchema.AnalyticsStreamsTable);
    private readonly EventInserter _events;
    private NpgsqlConnection? _connection;

    /// <param name="staging">An in-memory database with an empty <c>events</c> table, allowed to write under <paramref name="sharedDirectory"/>; the writer owns it.</param>
    public SegmentGroupWriter(DuckDbDatabase staging, NpgsqlDataSource dataSource, string sharedDirectory, string nodeName, TimeProvider time)
    {
        _stagingDatabase = staging;
        _staging = staging.Connect();
        try
        {
            _events = new EventInserter(_staging, [DuckDbSchema.EventTables[0]]);
        }
        catch
        {
            _staging.Dispose();
            _stagingDatabase.Dispose();
            throw;
        }
        _dataSource = dataSource;
        _sharedDirectory = Path.GetFullPath(sharedDirectory);
        _nodeName = nodeName;
        _time = time;
    }

    /// <summary>Seals whole flushes only: the sink over this writer does not cut commits at row groups.</summary>
    public (long Events, int Streams) Write(List<FlushPart> parts)
    {
        var group = new List<PendingFlush>(parts.Count);
        foreach (var part in parts)
        {
            if (part.From != 0 || !part.Completes)
                throw new InvalidOperationException("A segment holds whole flushes; this sink must not cut its commits at row groups.");
            group.Add(part.Pending);
        }
        try
        {
            return WriteTransaction(group);
        }
        catch (Exception exception) when (PostgresErrors.IsTransient(exception))
        {
            ResetConnection();
            // The catalog is away: the streams wait and retry, as they do for the PostgreSQL sink.
            throw new StorageBackpressureException($"The analytics catalog in PostgreSQL is unreachable ({PostgresErrors.Reason(exception)}); retry shortly.", TimeSpan.FromSeconds(1));
        }
        catch
        {
            ResetConnection();
            throw;
        }
    }

    public void Dispose()
    {
        _events.Dispose();
        _staging.Dispose();
        _stagingDatabase.Dispose();
        ResetConnection();
    }

    private (long Events, int Streams) WriteTransaction(List<PendingFlush> group)
    {
        var connection = _connection ??= _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        group = StreamFence.ApplyAsync(connection, PostgresSchema.AnalyticsStreamsTable, group, CancellationToken.None).GetAwaiter().GetResult();
        if (group.Count == 0)
            return (0, 0);

        var segment = Seal(group);
        var committing = false;
        try
        {
            if (segment is not null)
                Record(connection, segment);
            var streams = _streams.WriteAsync(connection, group, _time.GetUtcNow(), CancellationToken.None).GetAwaiter().GetResult();
            committing = true;
            transaction.Commit();
            return (segment?.Events ?? 0, streams);
        }
        catch when (segment is not null && !committing)
        {
            // Certainly not committed: the file is no one's. (After a failed COMMIT it may be in
            // the catalog, so it stays; the collector deletes it later if it is not.)
            TryDelete(segment.FullPath);
            throw;
        }
    }

    /// <summary>Writes the group's events to a new Parquet file and makes it durable; null when the group has no events.</summary>
    private Segment? Seal(List<PendingFlush> group)
    {
        long events = 0;
        var min = DateTimeOffset.MaxValue;
        var max = DateTimeOffset.MinValue;
        foreach (var pending in group)
        {
            foreach (var batch in pending.Flush.Batches)
            {
                if (batch.Count == 0)
                    continue;
                events += batch.Count;
                min = batch.ReceivedAt < min ? batch.ReceivedAt : min;
                max = batch.ReceivedAt > max ? batch.ReceivedAt : max;
            }
        }
        if (events == 0)
            return null;

        var id = Guid.CreateVersion7(_time.GetUtcNow());
        var relative = SegmentPaths.For(min, id);
        var fullPath = Path.Combine(_sharedDirectory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        _staging.Execute("BEGIN TRANSACTION");
        try
        {
            _events.Insert(group.ConvertAll(pending => FlushPart.Next(pending, long.MaxValue)), 0);
            _staging.Execute($"COPY {DuckDbSchema.EventTables[0]} TO '{fullPath.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT parquet, COMPRESSION zstd)");
        }
        catch
        {
            TryDelete(fullPath);
            throw;
        }
        finally
        {
            // The rows were only staged for the COPY.
            _staging.Execute("ROLLBACK");
        }

        long bytes;
        using (var file = new FileStream(fullPath, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Flush(flushToDisk: true);
            bytes = file.Length;
        }
        return new Segment(id, relative, fullPath, events, bytes, min, max);
    }

    private void Record(NpgsqlConnection connection, Segment segment)
    {
        using var command = new NpgsqlCommand(InsertSegmentSql, connection);
        command.Parameters.AddWithValue("id", segment.Id);
        command.Parameters.AddWithValue("path", segment.RelativePath);
        command.Parameters.AddWithValue("events", segment.Events);
        command.Parameters.AddWithValue("bytes", segment.Bytes);
        command.Parameters.AddWithValue("min", segment.MinReceivedAt.UtcDateTime);
        command.Parameters.AddWithValue("max", segment.MaxReceivedAt.UtcDateTime);
        command.Parameters.AddWithValue("node", _nodeName);
        command.ExecuteNonQuery();
    }

    private void ResetConnection()
    {
        var connection = _connection;
        _connection = null;
        try
        {
            connection?.Dispose();
        }
        catch (Exception)
        {
            // A broken connection may fail to close; it is gone either way.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record Segment(Guid Id, string RelativePath, string FullPath, long Events, long Bytes, DateTimeOffset MinReceivedAt, DateTimeOffset MaxReceivedAt);
}
