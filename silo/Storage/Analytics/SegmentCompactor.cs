using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Merges the oldest live segments of the lowest crowded level into one segment a level up.
/// Safe to run on several nodes at once: the merged segment replaces its inputs in one
/// transaction that retires them only if all are still live, so at most one merge of the same
/// segments wins and no event is ever listed twice or lost. A crash before that commit leaves
/// an orphan file, which nothing reads and the <see cref="FileCollector"/> removes.
/// </summary>
internal sealed partial class SegmentCompactor(
    AnalyticsOptions options, DuckDbOptions duckDb, TimeProvider time, ILogger<SegmentCompactor> logger)
{
    private const string PickSql = """
        WITH target AS (
          SELECT level FROM segments WHERE retired_at IS NULL
          GROUP BY level HAVING count(*) > @threshold ORDER BY level LIMIT 1)
        SELECT s.id, s.path, s.events, s.min_received_at, s.max_received_at, s.level
        FROM segments s JOIN target USING (level)
        WHERE s.retired_at IS NULL
        ORDER BY s.created_at, s.id
        LIMIT @max
        """;

    // Rows are locked in id order, so two compactors that picked overlapping inputs wait for
    // each other instead of deadlocking; the loser then finds some already retired.
    private const string RetireSql = """
        UPDATE segments SET retired_at = @now
        WHERE id IN (SELECT id FROM segments WHERE id = ANY(@ids) ORDER BY id FOR UPDATE) AND retired_at IS NULL
        """;

    private const string InsertSql = """
        INSERT INTO segments (id, path, events, bytes, min_received_at, max_received_at, level, created_by, created_at)
        VALUES (@id, @path, @events, @bytes, @min, @max, @level, @node, @now)
        """;

    /// <summary>One round. Catalog changes go through <paramref name="connection"/>, so a maintainer that lost it cannot commit.</summary>
    public async Task<CompactionOutcome> RunOnceAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var inputs = await PickAsync(connection, cancellationToken).ConfigureAwait(false);
        if (inputs.Count == 0)
            return CompactionOutcome.NothingToDo;

        var now = CatalogTime.Now(time);
        var id = Guid.CreateVersion7(now);
        var minReceivedAt = inputs.Min(s => s.MinReceivedAt);
        var output = new SegmentInput(
            id,
            SharedLayout.SegmentPath(PostgresSchema.DayOf(minReceivedAt), id),
            inputs.Sum(s => s.Events),
            minReceivedAt,
            inputs.Max(s => s.MaxReceivedAt),
            inputs.Max(s => s.Level) + 1);
        var file = SharedLayout.Absolute(options.SharedDirectory, output.Path);

        var committing = false;
        try
        {
            Merge(inputs, file, output.Events, cancellationToken);
            DurableFile.Flush(file);
            var bytes = new FileInfo(file).Length;
            committing = true;
            if (await CommitAsync(connection, inputs, output, bytes, now, cancellationToken).ConfigureAwait(false))
            {
                LogCompacted(inputs.Count, inputs[0].Level, output.Path, output.Events, bytes);
                return CompactionOutcome.Compacted;
            }
            DurableFile.Delete(file);
            LogSuperseded(inputs.Count, inputs[0].Level);
            return CompactionOutcome.Superseded;
        }
        catch when (!committing)
        {
            // Nothing names the file yet. Once the commit was sent its outcome may be unknown
            // (the connection dropped), so the file stays; if no row names it, it is an orphan.
            DurableFile.Delete(file);
            throw;
        }
    }

    private async Task<List<SegmentInput>> PickAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(PickSql, connection);
        command.Parameters.AddWithValue("threshold", options.CompactionThreshold);
        command.Parameters.AddWithValue("max", options.CompactionMaxInputs);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var inputs = new List<SegmentInput>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            inputs.Add(new SegmentInput(
                reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt32(5)));
        }
        return inputs;
    }

    /// <summary>Writes the inputs' rows, sorted by stream and sequence, as one Parquet file.</summary>
    private void Merge(List<SegmentInput> inputs, string file, long expected, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var sources = DuckDbSql.List(inputs.Select(s => SharedLayout.Absolute(options.SharedDirectory, s.Path)));
        // hive_partitioning off: the date= folder would otherwise become a fifth column.
        var sql = $"""
            COPY (SELECT stream_id, seq, received_at, payload FROM read_parquet({sources}, hive_partitioning = false)
                  ORDER BY stream_id, seq)
            TO {DuckDbSql.Literal(file)} (FORMAT parquet, COMPRESSION zstd)
            """;
        using var database = DuckDbDatabase.OpenInMemory(duckDb, options.SharedDirectory);
        using var connection = database.Connect();
        using var interrupt = cancellationToken.Register(static c => ((DuckDb.Native.DuckDbConnection)c!).Interrupt(), connection);
        var written = DuckDbSql.ExecuteInt64(connection, sql);
        cancellationToken.ThrowIfCancellationRequested();
        // The catalog's counts come from the rows; a file that disagrees must not replace them.
        if (written != expected)
            throw new InvalidDataException($"Compacting {inputs.Count} segments wrote {written} events where the catalog lists {expected}.");
    }

    private async Task<bool> CommitAsync(
        NpgsqlConnection connection, List<SegmentInput> inputs, SegmentInput output, long bytes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var retire = new NpgsqlCommand(RetireSql, connection, transaction))
        {
            retire.Parameters.AddWithValue("now", now.UtcDateTime);
            retire.Parameters.AddWithValue("ids", inputs.Select(s => s.Id).ToArray());
            if (await retire.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != inputs.Count)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }
        }
        await using (var insert = new NpgsqlCommand(InsertSql, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", output.Id);
            insert.Parameters.AddWithValue("path", output.Path);
            insert.Parameters.AddWithValue("events", output.Events);
            insert.Parameters.AddWithValue("bytes", bytes);
            insert.Parameters.AddWithValue("min", output.MinReceivedAt.UtcDateTime);
            insert.Parameters.AddWithValue("max", output.MaxReceivedAt.UtcDateTime);
            insert.Parameters.AddWithValue("level", output.Level);
            insert.Parameters.AddWithValue("node", options.NodeName);
            insert.Parameters.AddWithValue("now", now.UtcDateTime);
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted {Inputs} level-{Level} segments into {Path} ({Events} events, {Bytes} bytes)")]
    private partial void LogCompacted(int inputs, int level, string path, long events, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped a compaction of {Inputs} level-{Level} segments: another compactor retired some of them first")]
    private partial void LogSuperseded(int inputs, int level);
}
