using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ingest.Silo.Storage.Analytics;

/// <summary>
/// Deletes the shared directory's files nothing reads any more, each only after
/// <see cref="AnalyticsOptions.RetiredGrace"/>, so a reader holding an older catalog can finish:
/// retired segments (then their rows), streams snapshots that were superseded, orphans (segment
/// files no row names: a writer crashed before its commit) and temporary files left by a crash.
/// </summary>
internal sealed partial class FileCollector(AnalyticsOptions options, TimeProvider time, ILogger<FileCollector> logger)
{
    private const string SegmentsSql = "SELECT id, path, retired_at FROM segments";
    private const string CatalogSql = "SELECT generation, streams_path, published_at FROM analytics_catalog WHERE id = 1";
    private const string DeleteSql = "DELETE FROM segments WHERE id = ANY(@ids) AND retired_at IS NOT NULL";

    /// <summary>One round. Rows are deleted through <paramref name="connection"/>, the maintainer's.</summary>
    public Task<CollectedFiles> RunOnceAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        RunOnceAsync(connection, writing: null, cancellationToken);

    /// <param name="writing">
    /// A segment file (relative path) this node is still writing: a long merge may leave its
    /// output untouched for longer than the grace, and it is no orphan.
    /// </param>
    public async Task<CollectedFiles> RunOnceAsync(NpgsqlConnection connection, string? writing, CancellationToken cancellationToken)
    {
        var cutoff = CatalogTime.Now(time) - options.RetiredGrace;
        // The files first, then the rows: a segment whose row commits in between is among the
        // rows, so it is never taken for an orphan.
        var segmentFiles = List(SharedLayout.EventsDirectory, SearchOption.AllDirectories);
        var catalogFiles = List(SharedLayout.CatalogDirectory, SearchOption.TopDirectoryOnly);
        var segments = await ReadSegmentsAsync(connection, cancellationToken).ConfigureAwait(false);
        var catalog = await ReadCatalogAsync(connection, cancellationToken).ConfigureAwait(false);

        var retired = await DeleteRetiredAsync(connection, segments, catalog, cutoff, cancellationToken).ConfigureAwait(false);
        var named = segments.Select(s => s.Path).ToHashSet(StringComparer.Ordinal);
        if (writing is not null)
            named.Add(writing);
        var orphans = 0;
        foreach (var file in segmentFiles)
        {
            if (SharedLayout.IsSegmentFile(file.Name) && !named.Contains(SharedLayout.Relative(options.SharedDirectory, file.FullName))
                && file.LastWriteTimeUtc < cutoff && DurableFile.Delete(file.FullName))
                orphans++;
        }
        var snapshots = DeleteSnapshots(catalogFiles, catalog, cutoff);
        var temp = 0;
        foreach (var file in catalogFiles)
        {
            if (file.Name.Contains(SharedLayout.TempMarker, StringComparison.Ordinal) && file.LastWriteTimeUtc < cutoff && DurableFile.Delete(file.FullName))
                temp++;
        }

        var collected = new CollectedFiles(retired, orphans, snapshots, temp);
        if (collected.Total > 0)
            LogCollected(retired, orphans, snapshots, temp);
        return collected;
    }

    /// <summary>
    /// Retired segments past the grace, and only once a publication after their retirement took
    /// them out of <c>catalog.duckdb</c>.
    /// </summary>
    private async Task<int> DeleteRetiredAsync(
        NpgsqlConnection connection, List<CatalogEntry> segments, CatalogSnapshot? catalog,
        DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var ids = new List<Guid>();
        foreach (var (id, path, retiredAt) in segments)
        {
            if (retiredAt is not { } at || at >= cutoff || (catalog?.PublishedAt is { } published && at > published))
                continue;
            // The file goes first: a crash between leaves a row to retry, never an unnamed file.
            DurableFile.Delete(SharedLayout.Absolute(options.SharedDirectory, path));
            ids.Add(id);
        }
        if (ids.Count == 0)
            return 0;
        await using var delete = new NpgsqlCommand(DeleteSql, connection);
        delete.Parameters.AddWithValue("ids", ids.ToArray());
        await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return ids.Count;
    }

    /// <summary>
    /// Snapshots other than the current one. An older one went out of use when the next newer
    /// one was written; a newer one was never committed (a publisher failed), so it counts from
    /// its own write.
    /// </summary>
    private static int DeleteSnapshots(List<FileInfo> catalogFiles, CatalogSnapshot? catalog, DateTimeOffset cutoff)
    {
        var current = catalog?.StreamsPath is null ? (long?)null : catalog.Generation;
        var snapshots = new SortedList<long, FileInfo>();
        foreach (var file in catalogFiles)
        {
            if (SharedLayout.TryParseStreamsGeneration(file.Name, out var generation))
                snapshots[generation] = file;
        }

        var deleted = 0;
        for (var i = 0; i < snapshots.Count; i++)
        {
            var generation = snapshots.Keys[i];
            if (generation == current)
                continue;
            DateTime unusedSince;
            if (generation > current || current is null)
                unusedSince = snapshots.Values[i].LastWriteTimeUtc;
            else if (i + 1 < snapshots.Count)
                unusedSince = snapshots.Values[i + 1].LastWriteTimeUtc;
            else
                continue;
            if (unusedSince < cutoff && DurableFile.Delete(snapshots.Values[i].FullName))
                deleted++;
        }
        return deleted;
    }

    private List<FileInfo> List(string directory, SearchOption search)
    {
        var info = new DirectoryInfo(SharedLayout.Absolute(options.SharedDirectory, directory));
        return info.Exists ? [.. info.EnumerateFiles("*", search)] : [];
    }

    private static async Task<List<CatalogEntry>> ReadSegmentsAsync(
        NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SegmentsSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var segments = new List<CatalogEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            segments.Add(new CatalogEntry(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2)));
        return segments;
    }

    private static async Task<CatalogSnapshot?> ReadCatalogAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(CatalogSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            return null;
        return new CatalogSnapshot(
            [], reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
    }

    private sealed record CatalogEntry(Guid Id, string Path, DateTimeOffset? RetiredAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Retired} retired segments, {Orphans} orphaned segment files, {Snapshots} old streams snapshots and {Temp} temporary files")]
    private partial void LogCollected(int retired, int orphans, int snapshots, int temp);
}
