using Ingest.Contracts;
using Ingest.Grains;
using Ingest.Silo.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ingest.Silo.Hosting;

internal static class PostgresHostingExtensions
{
    /// <summary>PostgreSQL as a sink: checked and migrated at start, retention enforced on a schedule.</summary>
    public static void AddPostgresStorage(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PostgresOptions>().Bind(builder.Configuration.GetSection(PostgresOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PostgresOptions>, PostgresOptionsValidator>();
        // Resolved while the host starts, before the gateway listens: a wrong password or an
        // unreachable server stops the start with a message saying which.
        services.AddSingleton(provider => PostgresDatabase.OpenAsync(
                provider.GetRequiredService<IOptions<PostgresOptions>>().Value,
                provider.GetRequiredService<ILogger<PostgresDatabase>>())
            .GetAwaiter().GetResult());
        services.AddSingleton(provider => new PostgresEventSink(
            provider.GetRequiredService<PostgresDatabase>(),
            provider.GetRequiredService<ILogger<PostgresEventSink>>(),
            provider.GetRequiredService<TimeProvider>()));
        services.AddKeyedSingleton<IEventSink>(StorageSinks.Postgres, (provider, _) => provider.GetRequiredService<PostgresEventSink>());
        services.AddSingleton<PostgresStreamStore>();
        services.AddSingleton<PostgresRetention>();
        services.AddHostedService<PostgresRetentionService>();
    }
}
