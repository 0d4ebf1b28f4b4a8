using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Grains;
using Ingest.Silo.Storage.Analytics;
using Ingest.Silo.Storage.DuckDb;
using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Silo.Hosting;

public static class SiloHostingExtensions
{
    /// <summary>Hosts stream grains in this process, writing to the sinks <c>Silo:Sinks</c> names.</summary>
    public static IHostApplicationBuilder AddSilo(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // An unknown name fails the options validation at start, with its own message.
        var analytics = builder.Configuration.GetSection(AnalyticsOptions.Section).Get<AnalyticsOptions>() ?? new AnalyticsOptions();
        // A cluster keeps its catalog in PostgreSQL, whichever sinks it writes to.
        if (analytics.Clustered
            || (StorageSinkNames.TryParse(builder.Configuration[$"{SiloOptions.Section}:{nameof(SiloOptions.Sinks)}"], out var deployed, out _)
                && deployed.HasFlag(StorageSinks.Postgres)))
            builder.AddPostgresStorage();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SiloOptions>().Bind(builder.Configuration.GetSection(SiloOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SiloOptions>, SiloOptionsValidator>();
        // The DuckDB sink commits on the grains' flush clock unless told otherwise.
        services.AddOptions<DuckDbOptions>().Bind(builder.Configuration.GetSection(DuckDbOptions.Section))
            .PostConfigure<IOptions<SiloOptions>>((duckDb, silo) => duckDb.CommitInterval ??= silo.Value.FlushMaxDelay)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<DuckDbOptions>, DuckDbOptionsValidator>();

        // Cluster mode binds (and validates) AnalyticsOptions in AddAnalyticsMaintenance; nothing else reads them.
        if (analytics.Clustered)
            builder.AddSharedAnalytics();
        else
            builder.AddDuckDbFile();
        services.AddKeyedSingleton<IEventSink>(StorageSinks.DuckDb, (provider, _) => provider.GetRequiredService<DuckDbEventSink>());
        services.TryAddSingleton<DuckDbQueryService>();
        services.AddSingleton<StreamNotifier>();
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<SiloOptions>>().Value;
            var sinks = StorageSinkNames.Parse(options.Sinks);
            var ports = new List<SinkPort>();
            if (sinks.HasFlag(StorageSinks.DuckDb))
            {
                // A DuckDB file is this node's alone; in cluster mode the analytics rows are shared.
                ports.Add(new SinkPort(
                    StorageSinks.DuckDb, provider.GetRequiredKeyedService<IEventSink>(StorageSinks.DuckDb),
                    provider.GetRequiredKeyedService<IStreamStore>(StorageSinks.DuckDb), Exclusive: !analytics.Clustered));
            }
            if (sinks.HasFlag(StorageSinks.Postgres))
                ports.Add(new SinkPort(StorageSinks.Postgres, provider.GetRequiredKeyedService<IEventSink>(StorageSinks.Postgres), provider.GetRequiredService<PostgresStreamStore>()));
            return new GrainServices(
                ports,
                provider.GetRequiredService<StreamNotifier>(),
                new FlushOptions { MaxEvents = options.FlushMaxEvents, MaxBytes = options.FlushMaxBytes, MaxDelay = options.FlushMaxDelay, MaxFlights = options.FlushFlights },
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILoggerFactory>().CreateLogger("Ingest.Silo.Grains"));
        });
        services.AddSingleton<StreamSilo>();
        services.AddSingleton<IStreamGrainFactory>(provider => provider.GetRequiredService<StreamSilo>());
        services.AddHostedService<SiloHostedService>();
        return builder;
    }
}
