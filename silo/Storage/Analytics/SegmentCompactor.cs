using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.DuckDb.Native;
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
/// <remarks>
/// The three steps are separate so the maintainer can merge off its loop: a merge of large
/// segments takes long, and publication must not wait for it.
/// </remarks>
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

    /// <summary>Plans, merges and commits one compaction.</summary>
    public async Task<CompactionOutcome> RunOnceAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(connection, cancellationToken).ConfigureAwait(false);
        if (plan is null)
            return CompactionOutcome.NothingToDo;
        var bytes = Merge(plan, cancellationToken);
        return await CommitAsync(connection, plan, bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The oldest live segments of the lowest level with more than the threshold; null when none has.</summary>
    public async Task<CompactionPlan?> PlanAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var inputs = new List<SegmentRow>();
        await using (var command = new NpgsqlCommand(PickSql, connection))
        {
            command.Parameters.AddWithValue("threshold", options.CompactionThreshold);
            command.Parameters.AddWithValue("max", options.CompactionMaxInputs);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                inputs.Add(new SegmentRow(
                    reader.GetGuid(0), reader.GetString(1), reader.GetInt64(2),
                    reader.GetFieldValue<DateTimeOffset>(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt32(5)));
            }
        }
        if (inputs.Count == 0)
            return null;

        var id = Guid.CreateVersion7(time.GetUtcNow());
        var minReceivedAt = inputs.Min(s => s.MinReceivedAt);
        var output = new SegmentRow(
            id,
            SharedLayout.SegmentPath(PostgresSchema.DayOf(minReceivedAt), id),
            inputs.Sum(s => s.Events),
            minReceivedAt,
            inputs.Max(s => s.MaxReceivedAt),
            inputs.Max(s => s.Level) + 1);
        return new CompactionPlan(inputs, output, SharedLayout.Absolute(options.SharedDirectory, output.Path));
    }

    /// <summary>
    /// Writes the inputs' rows, sorted by stream and sequence, as the output's Parquet file and
    /// makes it durable. Needs no connection to PostgreSQL. On failure the file is deleted.
    /// </summary>
    /// <returns>The file's size.</returns>
    public long Merge(CompactionPlan plan, CancellationToken cancellationToken)
    {
        var sources = DuckDbSql.List(plan.Inputs.Select(s => SharedLayout.Absolute(options.SharedDirectory, s.Path)));
        // hive_partitioning off: the date= folder would otherwise become a fifth column.
        var sql = $"""
            COPY (SELECT stream_id, seq, received_at, payload FROM read_parquet({sources}, hive_partitioning = false)
                  ORDER BY stream_id, seq)
            TO {DuckDbSql.Literal(plan.File)} (FORMAT parquet, COMPRESSION zstd)
            """;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(plan.File)!);
            long written;
            using (var database = DuckDbDatabase.OpenInMemory(duckDb, options.SharedDirectory))
            using (var connection = database.Connect())
            using (cancellationToken.Register(static c => ((DuckDbConnection)c!).Interrupt(), connection))
                written = DuckDbSql.ExecuteInt64(connection, sql);
            cancellationToken.ThrowIfCancellationRequested();
            // The catalog's counts come from the rows; a file that disagrees must not replace them.
            if (written != plan.Output.Events)
                throw new InvalidDataException($"Compacting {plan.Inputs.Count} segments wrote {written} events where the catalog lists {plan.Output.Events}.");
            DurableFile.Flush(plan.File);
            return new FileInfo(plan.File).Length;
        }
        catch
        {
            Discard(plan);
            throw;
        }
    }

    /// <summary>
    /// Lists the merged segment and retires its inputs, in one transaction, if all inputs are
    /// still live; otherwise deletes the merged file. Goes through <paramref name="connection"/>,
    /// the maintainer's, so a maintainer that lost it cannot commit.
    /// </summary>
    public async Task<CompactionOutcome> CommitAsync(NpgsqlConnection connection, CompactionPlan plan, long bytes, CancellationToken cancellationToken)
    {
        // If this throws, the outcome of the commit may be unknown (the connection dropped while
        // it was sent), so the file stays: if no row names it, it is an orphan for the collector.
        if (!await TryCommitAsync(connection, plan, bytes, cancellationToken).ConfigureAwait(false))
        {
            Discard(plan);
            LogSuperseded(plan.Inputs.Count, plan.Inputs[0].Level);
            return CompactionOutcome.Superseded;
        }
        LogCompacted(plan.Inputs.Count, plan.Inputs[0].Level, plan.Output.Path, plan.Output.Events, bytes);
        return CompactionOutcome.Compacted;
    }

    /// <summary>Deletes the merged file of a plan that will not be committed.</summary>
    public static void Discard(CompactionPlan plan) => DurableFile.Delete(plan.File);

    private async Task<bool> TryCommitAsync(NpgsqlConnection connection, CompactionPlan plan, long bytes, CancellationToken cancellationToken)
    {
        // The time of the commit, not of the plan: readers get the whole grace from when the
        // inputs actually left the catalog, however long the merge took.
        var now = CatalogTime.Now(time);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var retire = new NpgsqlCommand(RetireSql, connection, transaction))
        {
            retire.Parameters.AddWithValue("now", now.UtcDateTime);
            retire.Parameters.AddWithValue("ids", plan.Inputs.Select(s => s.Id).ToArray());
            if (await retire.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != plan.Inputs.Count)
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }
        }
        var output = plan.Output;
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
