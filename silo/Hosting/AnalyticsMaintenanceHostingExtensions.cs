using Ingest.Silo.Storage.Analytics;
using Ingest.Silo.Storage.DuckDb;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Silo.Hosting;

internal static class AnalyticsMaintenanceHostingExtensions
{
    /// <summary>
    /// Compaction, publication of <c>catalog.duckdb</c> and file collection for the shared
    /// analytics storage, run by one node of the cluster at a time. For cluster mode: needs
    /// <c>Analytics:SharedDirectory</c>, and the <see cref="Storage.Postgres.PostgresDatabase"/>
    /// that <c>AddPostgresStorage</c> registers.
    /// </summary>
    public static IHostApplicationBuilder AddAnalyticsMaintenance(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AnalyticsOptions>()
            .Bind(builder.Configuration.GetSection(AnalyticsOptions.Section))
            .Validate(o => o.Clustered, $"{AnalyticsOptions.Section}:{nameof(AnalyticsOptions.SharedDirectory)} must name the directory the cluster's nodes share.")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AnalyticsOptions>, AnalyticsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => provider.GetRequiredService<IOptions<AnalyticsOptions>>().Value);
        services.TryAddSingleton<AnalyticsCatalog>();
        services.AddSingleton(provider => new SegmentCompactor(
            provider.GetRequiredService<AnalyticsOptions>(), DuckDbOptions(provider),
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<SegmentCompactor>>()));
        services.AddSingleton(provider => new CatalogPublisher(
            provider.GetRequiredService<AnalyticsOptions>(), DuckDbOptions(provider),
            provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<ILogger<CatalogPublisher>>()));
        services.AddSingleton<FileCollector>();
        services.AddHostedService<AnalyticsMaintenanceService>();
        return builder;
    }

    private static DuckDbOptions DuckDbOptions(IServiceProvider provider) => provider.GetRequiredService<IOptions<DuckDbOptions>>().Value;
}
