using System.Data;
using Ingest.Silo.Storage.DuckDb;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Publishes the catalog for readers outside the cluster: a new streams snapshot when
/// <c>analytics_streams</c> changed, the <c>analytics_catalog</c> row naming it, then
/// <c>catalog.duckdb</c>. Segments and streams are read in one snapshot of PostgreSQL, so the
/// two views agree with each other. Does nothing when nothing changed since its last round.
/// </summary>
internal sealed partial class CatalogPublisher(
    AnalyticsOptions options, DuckDbOptions duckDb, TimeProvider time, ILogger<CatalogPublisher> logger)
{
    // The row lock makes publishers take turns, so two never write the same generation's file at once.
    private const string CreateSql = """
        INSERT INTO analytics_catalog (id, generation, streams_path, published_at) VALUES (1, 0, NULL, @now)
        ON CONFLICT (id) DO NOTHING
        """;

    private const string LockSql = "SELECT generation, streams_path, published_at FROM analytics_catalog WHERE id = 1 FOR UPDATE";

    // Any write to a stream's row moves one of these; max(updated_at) alone would miss a row
    // written with a lagging clock.
    private const string StreamsStampSql = """
        SELECT max(updated_at), count(*), coalesce(sum(events + rejected + duplicates), 0), count(closed_at)
        FROM analytics_streams
        """;

    private const string UpdateSql = """
        UPDATE analytics_catalog SET generation = @generation, streams_path = @path, published_at = @now WHERE id = 1
        """;

    private Published? _last;

    /// <summary>
    /// One round. The catalog row is changed through <paramref name="connection"/>, so a
    /// maintainer that lost it cannot commit.
    /// </summary>
    /// <returns>True when it published; false when nothing had changed.</returns>
    public async Task<bool> RunOnceAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var now = CatalogTime.Now(time);
        try
        {
            return await PublishAsync(connection, now, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Whatever was left half done, the next round starts over.
            _last = null;
            throw;
        }
    }

    private async Task<bool> PublishAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var current = await LockAsync(connection, transaction, now, cancellationToken).ConfigureAwait(false);
        var catalog = await AnalyticsCatalog.ReadAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        var stamp = await StampAsync(connection, transaction, cancellationToken).ConfigureAwait(false);

        // Another publisher's round since ours shows as a different row: trust nothing then.
        var ours = _last is not null && _last.Catalog.Generation == current.Generation && _last.Catalog.PublishedAt == current.PublishedAt;
        var newStreams = !ours || current.StreamsPath is null || _last!.Stamp != stamp;
        if (!newStreams && _last!.Catalog.SegmentPaths.SequenceEqual(catalog.SegmentPaths, StringComparer.Ordinal))
            return false;

        using var database = DuckDbDatabase.OpenInMemory(duckDb, options.SharedDirectory);
        using var duck = database.Connect();
        var published = catalog with { Generation = current.Generation, StreamsPath = current.StreamsPath, PublishedAt = now };
        long? streams = null;
        if (newStreams)
        {
            published = published with { Generation = current.Generation + 1, StreamsPath = SharedLayout.StreamsPath(current.Generation + 1) };
            streams = await StreamsSnapshot.WriteAsync(
                connection, transaction, duck, SharedLayout.Absolute(options.SharedDirectory, published.StreamsPath), cancellationToken).ConfigureAwait(false);
        }
        await using (var update = new NpgsqlCommand(UpdateSql, connection, transaction))
        {
            update.Parameters.AddWithValue("generation", published.Generation);
            update.Parameters.AddWithValue("path", published.StreamsPath!);
            update.Parameters.AddWithValue("now", now.UtcDateTime);
            await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        CatalogFile.Write(duck, published, options.SharedDirectory);
        _last = new Published(published, stamp);
        LogPublished(published.Generation, published.SegmentPaths.Count, streams);
        return true;
    }

    private static async Task<CatalogSnapshot> LockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using (var create = new NpgsqlCommand(CreateSql, connection, transaction))
        {
            create.Parameters.AddWithValue("now", now.UtcDateTime);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using var command = new NpgsqlCommand(LockSql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new CatalogSnapshot(
            [], reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
    }

    private static async Task<StreamsStamp> StampAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(StreamsStampSql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new StreamsStamp(
            reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0), reader.GetInt64(1), reader.GetFieldValue<decimal>(2), reader.GetInt64(3));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published catalog.duckdb: {Segments} segments, streams snapshot {Generation} ({Streams} streams when new)")]
    private partial void LogPublished(long generation, int segments, long? streams);

    private sealed record StreamsStamp(DateTimeOffset? UpdatedAt, long Rows, decimal Counts, long Closed);

    private sealed record Published(CatalogSnapshot Catalog, StreamsStamp Stamp);
}
