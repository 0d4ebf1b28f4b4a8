using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.Analytics;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.Postgres;
using Ingest.Silo.Storage.Segments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Silo.Hosting;

/// <summary>Where the <c>duckdb</c> sink's events go: a node's own DuckDB file, or a cluster's shared Parquet segments.</summary>
internal static class AnalyticsHostingExtensions
{
    /// <summary>One node: a DuckDB file that the sink appends to and queries read.</summary>
    public static void AddDuckDbFile(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(provider => DuckDbDatabase.Open(
            provider.GetRequiredService<IOptions<DuckDbOptions>>().Value, provider.GetService<ILogger<DuckDbDatabase>>()));
        services.AddSingleton<DuckDbEventSink>();
        services.AddSingleton<DuckDbStreamStore>();
        services.AddKeyedSingleton<IStreamStore>(StorageSinks.DuckDb, (provider, _) => provider.GetRequiredService<DuckDbStreamStore>());
    }

    /// <summary>
    /// A cluster: each node seals its events into Parquet segments in the shared directory and
    /// records them, with the streams' positions, in PostgreSQL. Queries read the segments through
    /// views over what the catalog lists; the node keeps no state of its own.
    /// </summary>
    public static void AddSharedAnalytics(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(provider =>
        {
            var shared = provider.GetRequiredService<IOptions<AnalyticsOptions>>().Value.SharedDirectory;
            Directory.CreateDirectory(shared);
            return DuckDbDatabase.OpenInMemory(provider.GetRequiredService<IOptions<DuckDbOptions>>().Value, shared, withTables: false);
        });
        services.AddSingleton(provider =>
        {
            var analytics = provider.GetRequiredService<IOptions<AnalyticsOptions>>().Value;
            var duckDb = provider.GetRequiredService<IOptions<DuckDbOptions>>().Value;
            var time = provider.GetRequiredService<TimeProvider>();
            var writer = new SegmentGroupWriter(
                DuckDbDatabase.OpenInMemory(duckDb, analytics.SharedDirectory),
                provider.GetRequiredService<PostgresDatabase>().DataSource,
                analytics.SharedDirectory,
                analytics.NodeName,
                time);
            // A segment gathers flushes for SegmentInterval from the oldest, also those a caller
            // waits for, so each Parquet file holds more.
            return new DuckDbEventSink(writer, duckDb.MaxQueuedBytes, provider.GetRequiredService<ILogger<DuckDbEventSink>>(), time,
                commitEvents: long.MaxValue, commitDelay: analytics.SegmentInterval, holdAwaited: true);
        });
        services.AddKeyedSingleton<IStreamStore>(StorageSinks.DuckDb, (provider, _) =>
            new PostgresStreamStore(provider.GetRequiredService<PostgresDatabase>(), PostgresSchema.AnalyticsStreamsTable));
        services.AddSingleton<AnalyticsCatalog>();
        // Each query first defines events and streams over what the catalog lists right now: every
        // node's committed segments, nothing a crash left half-written.
        services.AddSingleton(provider =>
        {
            var catalog = provider.GetRequiredService<AnalyticsCatalog>();
            var shared = provider.GetRequiredService<IOptions<AnalyticsOptions>>().Value.SharedDirectory;
            return new DuckDbQueryService(
                provider.GetRequiredService<DuckDbDatabase>(),
                provider.GetRequiredService<ILogger<DuckDbQueryService>>(),
                async (connection, cancellationToken) =>
                {
                    var snapshot = await catalog.ReadAsync(cancellationToken).ConfigureAwait(false);
                    connection.Execute(CatalogViews.CreateViews(snapshot, shared, temporary: true));
                });
        });
        builder.AddAnalyticsMaintenance();
    }
}
